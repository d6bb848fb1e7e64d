//! `seatmeter migrate-store`: an embedded store copied into PostgreSQL.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The SQLite store file.
    #[arg(long)]
    pub from: PathBuf,
    /// The PostgreSQL URL (postgres://user[:password]@host[:port]/database[?options=...]).
    /// Prefer PGPASSWORD or ~/.pgpass to a password in the URL.
    #[arg(long)]
    pub to: String,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let counts =
        seatmeter_store::migrate::sqlite_to_postgres(&args.from, &args.to, &mut |table, n| {
            eprintln!("copied {table}: {n} row(s)");
        })?;
    let total: u64 = counts.iter().map(|c| c.1).sum();
    println!(
        "copied {} into {}: {total} row(s) in {} table(s) ({:.1} s)",
        args.from.display(),
        seatmeter_core::redact::redact_url(&args.to),
        counts.len(),
        started.elapsed().as_secs_f64()
    );
    for (table, n) in counts {
        println!("  {table:<18} {n:>10}");
    }
    Ok(ExitCode::SUCCESS)
}
