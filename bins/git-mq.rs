fn main() {
    gastown::cli::main::<gastown::cli::mq::Cli>()
}
