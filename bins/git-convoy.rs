fn main() {
    gastown::cli::main::<gastown::cli::convoy::Cli>()
}
