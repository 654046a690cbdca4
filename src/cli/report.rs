//! `report`: draw the figures and report.md of a finished output folder again.

use std::path::PathBuf;

use clap::Args;

use redqueen::error::Result;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A `train` output folder, or a study's data/<name>/ folder.
    dir: PathBuf,
}

/// Runs `report`.
pub fn report(a: &ReportArgs) -> Result<()> {
    for f in redqueen::report::render(&a.dir)? {
        println!("wrote {}", f.display());
    }
    Ok(())
}
