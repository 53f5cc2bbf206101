fn main() {
    gastown::cli::mol::main()
}
