//! Files that cannot lie: every output is written to a temporary file in its own folder
//! and renamed into place, so a reader never sees half a file; a target that is not a
//! regular file (a device, a FIFO, a symbolic link) is never replaced; a failed write
//! (no space left on the device) is an error and leaves no temporary file behind; and
//! the folders a command owns are cleared of what its configuration no longer produces.
//!
//! Completion markers (`done.json`, `summary.json`, `report.md`) are removed first and
//! written last ([`remove_marker`]), so an interrupted run can never pass for a finished
//! one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Checks that `path` may be written: it does not exist yet, or it is a regular file
/// (not a symbolic link, a directory, a device or a FIFO).
///
/// # Errors
/// [`Error::File`] naming the path and what it is.
pub fn check_target(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::file(path, e)),
        Ok(m) => {
            let t = m.file_type();
            if t.is_file() {
                return Ok(());
            }
            let what = if t.is_symlink() {
                "a symbolic link"
            } else if t.is_dir() {
                "a directory"
            } else {
                "a device, FIFO or socket"
            };
            Err(Error::file(
                path,
                format!("is {what}, not a regular file: refusing to replace it"),
            ))
        }
    }
}

/// A temporary name beside `target` that keeps its extension (plotting back ends choose
/// the format from it): `.<stem>.tmp<pid>-<n>.<ext>`. Process id plus a counter, so two
/// threads or processes never share one.
#[must_use]
pub fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) if !b.is_empty() => (b.to_string(), format!(".{e}")),
        _ => (name, String::new()),
    };
    let tmp = format!(".{base}.tmp{}-{n}{ext}", std::process::id());
    match target.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// Whether a file name is one of our temporary names ([`temp_path`]).
#[must_use]
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp") && {
        let after = &name[name.rfind(".tmp").map_or(0, |i| i + 4)..];
        after.starts_with(|c: char| c.is_ascii_digit())
    }
}

/// Creates the folder `dir` (and its parents); an existing path that is not a folder is
/// an error.
///
/// # Errors
/// [`Error::File`].
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, format!("cannot create folder: {e}")))
}

/// Writes `target` through `render`, which writes the whole file at the temporary path
/// it is given; then renames it into place. The parent folder is created; the target
/// is checked first ([`check_target`]); on any failure the temporary file is removed.
///
/// # Errors
/// [`Error::File`] naming the target.
pub fn write_atomic_with(
    target: &Path,
    render: impl FnOnce(&Path) -> std::result::Result<(), String>,
) -> Result<()> {
    check_target(target)?;
    if let Some(dir) = target.parent() {
        create_dir(dir)?;
    }
    let tmp = temp_path(target);
    let done = render(&tmp).and_then(|()| {
        // The rename replaces a regular file or creates the name; re-check in case the
        // target changed meanwhile.
        check_target(target).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, target).map_err(|e| format!("cannot rename into place: {e}"))
    });
    done.map_err(|reason| {
        let _ = std::fs::remove_file(&tmp);
        Error::file(target, reason)
    })
}

/// Writes `bytes` to `target` atomically ([`write_atomic_with`]). A full disk fails the
/// write (the file systems we write to reserve space at `write`; not syncing keeps the
/// thousands of small files of a study fast).
///
/// # Errors
/// [`Error::File`] naming the target.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(target, |tmp| {
        use std::io::Write;
        let mut f = std::fs::File::create(tmp).map_err(|e| format!("cannot create: {e}"))?;
        f.write_all(bytes).map_err(|e| format!("cannot write: {e}"))
    })
}

/// Removes a completion marker (before the outputs it vouches for are rewritten).
///
/// # Errors
/// [`Error::File`] if it exists and cannot be removed.
pub fn remove_marker(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::file(path, e)),
        _ => Ok(()),
    }
}

/// Empties the folder `dir` that a command owns, except the entries `keep` accepts
/// (names relative to `dir`); symbolic links are removed as links, never followed.
/// A missing folder is fine.
///
/// # Errors
/// [`Error::File`] naming what could not be removed.
pub fn clear_folder(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::file(dir, e)),
        Ok(r) => r,
    };
    for e in entries {
        let e = e.map_err(|err| Error::file(dir, err))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if keep(&name) {
            continue;
        }
        let path = e.path();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let r = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        r.map_err(|err| Error::file(&path, format!("cannot remove a stale output: {err}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.csv");
        write_atomic(&p, b"x\n1\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"x\n1\n");
        write_atomic(&p, b"x\n2\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"x\n2\n");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_links_fifos_folders_and_devices() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        std::fs::write(&real, "keep\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = write_atomic(&link, b"x").unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&real).unwrap(), b"keep\n");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(write_atomic(&fifo, b"x").is_err());
        }
        assert!(write_atomic(dir.path(), b"x").is_err());
        let e = write_atomic(Path::new("/dev/null"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("device"), "{e}");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !is_temp_name(n)), "{names:?}");
    }

    #[test]
    fn temp_names_keep_the_extension_and_are_recognised() {
        let t = temp_path(Path::new("a/fig.png"));
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".fig.tmp") && name.ends_with(".png"),
            "{name}"
        );
        assert!(is_temp_name(&name));
        assert!(!is_temp_name("fig.png") && !is_temp_name(".hidden"));
    }

    #[test]
    fn clearing_keeps_what_is_asked_and_removes_links_not_targets() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("precious"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("runs/a")).unwrap();
        std::fs::write(dir.path().join("old.csv"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        clear_folder(dir.path(), &|n| n == "runs").unwrap();
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["runs".to_string()]);
        assert!(outside.path().join("precious").exists());
    }
}
