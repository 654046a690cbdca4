//! Studies (placeholder until written).
use crate::error::Result;
use std::path::Path;
/// Runs a study.
pub fn run_study(_f: &Path, _r: &Path, _q: bool) -> Result<()> {
    Ok(())
}
