fn main() {
    gastown::cli::formula::main()
}
