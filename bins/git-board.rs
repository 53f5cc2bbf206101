fn main() {
    gastown::cli::main::<gastown::cli::board::Cli>()
}
