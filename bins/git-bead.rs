fn main() {
    gastown::cli::bead::main()
}
