//! `seatmeter scan`: the machine's limit for reading a spool — every file read and split
//! into lines on every core, and nothing else done with them. `seatmeter bench` runs it
//! beside `collect --once` on the same files, so the ingest's rate can be read against
//! what the disk, the memory and the cores allow (docs/PERFORMANCE.md).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder whose files are read (every file below it).
    pub dir: PathBuf,
}

/// What a scan read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    pub files: u64,
    pub lines: u64,
    pub bytes: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let s = scan(&args.dir)?;
    println!("files: {}\nlines: {}\nbytes: {}", s.files, s.lines, s.bytes);
    Ok(ExitCode::SUCCESS)
}

/// Reads every file below `dir` in 8 MiB blocks (as the spool collector does), on as many
/// threads as there are cores, and counts its lines (a last line without its newline
/// counts).
pub fn scan(dir: &Path) -> Result<Scanned> {
    let mut files = Vec::new();
    list(dir, &mut files)?;
    files.sort();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parts: Vec<Result<Scanned>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut got = Scanned::default();
                    let mut buf = vec![0u8; 8 << 20];
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else {
                            return Ok(got);
                        };
                        let mut f = std::fs::File::open(path)
                            .with_context(|| format!("opening {}", path.display()))?;
                        let mut last = b'\n';
                        loop {
                            let n = f
                                .read(&mut buf)
                                .with_context(|| format!("reading {}", path.display()))?;
                            if n == 0 {
                                break;
                            }
                            got.bytes += n as u64;
                            got.lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                            last = buf[n - 1];
                        }
                        got.lines += u64::from(last != b'\n');
                        got.files += 1;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a scan thread"))
            .collect()
    });
    parts.into_iter().try_fold(Scanned::default(), |a, p| {
        let p = p?;
        Ok(Scanned {
            files: a.files + p.files,
            lines: a.lines + p.lines,
            bytes: a.bytes + p.bytes,
        })
    })
}

fn list(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        // Following links, as the spool collector does.
        if std::fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .is_dir()
        {
            list(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_line_of_every_file_below_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("day2")).unwrap();
        std::fs::write(dir.path().join("a.csv"), "h\n1\n2\n").unwrap();
        // No newline after the last line: it counts; an empty file has none.
        std::fs::write(dir.path().join("day2/b.csv"), "h\n1").unwrap();
        std::fs::write(dir.path().join("day2/empty.csv"), "").unwrap();
        let big: String = (0..200_000).map(|i| format!("{i}\n")).collect();
        std::fs::write(dir.path().join("big.csv"), &big).unwrap();
        let s = scan(dir.path()).unwrap();
        assert_eq!(
            s,
            Scanned {
                files: 4,
                lines: 3 + 2 + 200_000,
                bytes: 6 + 3 + big.len() as u64,
            }
        );
        // A linked folder is read as a folder.
        #[cfg(unix)]
        {
            let other = tempfile::tempdir().unwrap();
            std::fs::write(other.path().join("c.csv"), "h\n1\n").unwrap();
            std::os::unix::fs::symlink(other.path(), dir.path().join("linked")).unwrap();
            let s = scan(dir.path()).unwrap();
            assert_eq!((s.files, s.lines), (5, 3 + 2 + 200_000 + 2));
        }
    }
}
