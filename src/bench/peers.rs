//! The Python peers (`../shared/peers/`): running one and reading its JSON line, and the
//! peer runs that go with each benchmark, so that ours and theirs are measured in the
//! same session on the same machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::error::{Error, Result};

/// Where the peers and their interpreters are.
#[derive(Debug, Clone)]
pub struct Peers {
    /// The folder holding the peer scripts.
    pub dir: PathBuf,
    /// Python of the numpy/JAX peers.
    pub python: PathBuf,
    /// Python of the PyTorch peers.
    pub torch_python: PathBuf,
}

/// One peer measurement and our ratio against it.
#[derive(Debug, Clone, Serialize)]
pub struct PeerRate {
    /// The peer configuration, e.g. `numpy-inplace-f64`.
    pub name: String,
    /// The peer's rate (cell-steps/s or steps/s), if it printed one.
    pub rate: Option<f64>,
    /// Our rate divided by the peer's.
    pub ratio: Option<f64>,
    /// The peer's whole JSON line.
    pub peer: serde_json::Value,
}

impl Peers {
    /// The path of a peer script, checked to exist.
    ///
    /// # Errors
    /// [`Error::File`] if it is missing.
    pub fn script(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.join(name);
        if p.exists() {
            Ok(p)
        } else {
            Err(Error::file(p, "peer program not found"))
        }
    }

    /// Runs `script args…` with `python` and reads `key` (the rate) from its JSON line.
    ///
    /// # Errors
    /// As [`run_peer`].
    pub fn rate(
        &self,
        python: &Path,
        label: &str,
        script: &str,
        args: &[&str],
        key: &str,
        ours: f64,
    ) -> Result<PeerRate> {
        let v = run_peer(python, &self.script(script)?, args)?;
        let rate = v.get(key).and_then(serde_json::Value::as_f64);
        Ok(PeerRate {
            name: label.to_string(),
            rate,
            ratio: rate.map(|r| ours / r),
            peer: v,
        })
    }
}

/// Runs a peer program (`python script args…`) and parses the one JSON line it prints.
///
/// The peers print exactly one JSON line on stdout; libraries may add warnings on stderr,
/// and this takes the last non-empty stdout line that parses as JSON.
///
/// # Errors
/// [`Error::File`] (naming the script) if the program cannot start, exits unsuccessfully
/// (the message carries the tail of its stderr) or prints no JSON line.
pub fn run_peer(python: &Path, script: &Path, args: &[&str]) -> Result<serde_json::Value> {
    run_peer_with_env(python, script, args, &[], &[])
}

/// [`run_peer`] with extra environment variables, e.g. `OPENBLAS_NUM_THREADS=1`, so
/// that a peer's NumPy/LAPACK work runs on the same number of threads as ours (PyTorch's
/// `set_num_threads` does not reach NumPy's BLAS), and interpreter arguments placed
/// before the script (e.g. `-c CODE`, a wrapper that then runs the script given as its
/// first argument).
///
/// # Errors
/// As [`run_peer`].
pub fn run_peer_with_env(
    python: &Path,
    script: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    interpreter_args: &[&str],
) -> Result<serde_json::Value> {
    let out = Command::new(python)
        .args(interpreter_args)
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .map_err(|e| Error::file(script, format!("cannot run with {}: {e}", python.display())))?;
    let stderr_tail = || {
        let s = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    };
    if !out.status.success() {
        return Err(Error::file(
            script,
            format!("peer exited with {}: {}", out.status, stderr_tail()),
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
        .ok_or_else(|| {
            Error::file(
                script,
                format!(
                    "peer printed no JSON line on stdout; stderr: {}",
                    stderr_tail()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_run_peer_parses_last_json_line() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("peer.sh");
        std::fs::write(
            &script,
            "echo warming up\necho '{\"peer\": \"x\", \"n\": '\"$1\"'}'\n",
        )
        .unwrap();
        let v = run_peer(Path::new("/bin/sh"), &script, &["3"]).unwrap();
        assert_eq!(v["peer"], "x");
        assert_eq!(v["n"], 3);

        let bad = dir.path().join("bad.sh");
        std::fs::write(&bad, "echo oops >&2\nexit 3\n").unwrap();
        let e = run_peer(Path::new("/bin/sh"), &bad, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("oops"), "{e}");

        let silent = dir.path().join("silent.sh");
        std::fs::write(&silent, "echo not json\n").unwrap();
        assert!(run_peer(Path::new("/bin/sh"), &silent, &[]).is_err());
    }
}
