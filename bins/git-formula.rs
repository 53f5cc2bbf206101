fn main() {
    gastown::cli::main::<gastown::cli::formula::Cli>()
}
