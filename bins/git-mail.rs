fn main() {
    gastown::cli::main::<gastown::cli::mail::Cli>()
}
