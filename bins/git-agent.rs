fn main() {
    gastown::cli::main::<gastown::cli::agent::Cli>()
}
