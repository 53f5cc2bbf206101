fn main() {
    gastown::cli::main::<gastown::cli::escalate::Cli>()
}
