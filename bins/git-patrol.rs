fn main() {
    gastown::cli::main::<gastown::cli::patrol::Cli>()
}
