fn main() {
    gastown::cli::main::<gastown::cli::gastown::Cli>()
}
