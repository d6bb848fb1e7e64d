fn main() -> std::process::ExitCode {
    seatmeter::cli::main()
}
