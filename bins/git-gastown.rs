fn main() {
    gastown::cli::gastown::main()
}
