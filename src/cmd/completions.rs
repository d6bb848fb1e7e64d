//! `seatmeter completions SHELL`: the shell completion script, generated from the same clap
//! definitions as `--help`, so it names exactly the commands and options the binary has.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args as ClapArgs, CommandFactory, ValueEnum};

use super::Cli;

#[derive(ClapArgs, Debug)]
#[command(after_long_help = "\
Examples:
  seatmeter completions bash > ~/.local/share/bash-completion/completions/seatmeter
  seatmeter completions zsh > ~/.zfunc/_seatmeter     (with fpath+=(~/.zfunc) in ~/.zshrc)
  seatmeter completions fish > ~/.config/fish/completions/seatmeter.fish
  source <(seatmeter completions bash)               (this bash session only)")]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "seatmeter", &mut out);
    Ok(ExitCode::SUCCESS)
}
