//! Neural-training study blocks: `[[neural]]` in a study file (settings × seeds).
//! (The full implementation is being written; this block type accepts no keys yet.)

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A `[[neural]]` block.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuralBlock {
    /// Block name.
    pub name: String,
}

/// Runs one neural block, appending to the report.
///
/// # Errors
/// Config and file errors.
pub fn run_neural_block(
    _study: &Path,
    _index: usize,
    _block: &NeuralBlock,
    _quick: bool,
    _data: &Path,
    _figs: &Path,
    _report: &mut String,
) -> Result<()> {
    Ok(())
}
