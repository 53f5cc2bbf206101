fn main() {
    gastown::cli::main::<gastown::cli::sling::Cli>()
}
