fn main() {
    gastown::cli::main::<gastown::cli::mol::MolCli>()
}
