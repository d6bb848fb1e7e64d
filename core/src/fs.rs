//! Files that readers never see half-written: written next to their final name, synced,
//! then renamed over it.

use std::io::Write;
use std::path::Path;

/// An error that names the file it is about.
fn at(path: &Path, what: &str, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// A temporary file next to `path` (so that renaming it over `path` is atomic); the folder
/// is created if needed.
pub fn temp_for(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| at(dir, "creating", e))?;
    tempfile::NamedTempFile::new_in(dir).map_err(|e| at(dir, "writing in", e))
}

/// Makes a finished temporary file the file at `path`: readable like any file (a
/// temporary file is created private), synced, then renamed over `path`, so that a reader
/// never sees half a file.
pub fn publish(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| at(path, "writing", e.error))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_for(path)?;
    tmp.write_all(bytes).map_err(|e| at(path, "writing", e))?;
    publish(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_creates_folders() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/report.csv");
        write_atomically(&p, b"one").unwrap();
        write_atomically(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        // Nothing but the file is left in the folder.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        // A folder cannot be created under a file.
        let err = write_atomically(&file.join("r.csv"), b"x").unwrap_err();
        assert!(err.to_string().contains("plain"), "{err}");
    }
}
