//! `seatmeter completions`: each shell's script names every subcommand `--help` lists.

use crate::support::{names_word, seatmeter, stdout_of, subcommands};

#[test]
fn every_shell_completes_every_subcommand_of_help() {
    let commands = subcommands(&stdout_of(&["--help"]));
    for expected in ["report", "serve", "completions", "man", "reset-cursor"] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} in {commands:?}"
        );
    }
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.len() > 1000,
            "{shell}: a script of {} bytes",
            script.len()
        );
        let missing: Vec<&String> = commands
            .iter()
            .filter(|c| !names_word(&script, c))
            .collect();
        assert!(missing.is_empty(), "{shell} script misses {missing:?}");
        // Options of the subcommands too, not only their names.
        assert!(script.contains("granularity"), "{shell}: report's options");
    }
    // Each in its own shell's language.
    assert!(stdout_of(&["completions", "bash"]).contains("complete -F"));
    assert!(stdout_of(&["completions", "zsh"]).starts_with("#compdef seatmeter"));
    assert!(stdout_of(&["completions", "fish"]).contains("complete -c seatmeter"));
}

#[test]
fn an_unknown_shell_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = seatmeter(dir.path(), &["completions", "tcsh"]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid value 'tcsh'") && err.contains("bash") && err.contains("fish"),
        "{err}"
    );
}
