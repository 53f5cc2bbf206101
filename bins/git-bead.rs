fn main() {
    gastown::cli::main::<gastown::cli::bead::Cli>()
}
