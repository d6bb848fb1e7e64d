//! The `seatmeter` command: one module per subcommand in `cmd/`.

mod cmd;

fn main() -> std::process::ExitCode {
    cmd::main()
}
