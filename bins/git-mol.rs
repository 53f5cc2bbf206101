fn main() {
    gastown::cli::formula::mol_main()
}
