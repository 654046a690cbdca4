//! `redqueen report DIR`: the figures and `report.md` of a finished output folder, drawn
//! again from its files, so a user can restyle or recover them without training or
//! running again.
//! * a `train` folder ([`train`]): every figure from its CSVs;
//! * a study folder (`data/<study>/`): the study's merge ([`crate::study::RunMode::Merge`])
//!   over the runs on disk, from the copy of the study file kept there (the reduced-game
//!   blocks, cheap and deterministic, are computed again).

pub mod train;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What kind of folder `dir` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// A `redqueen train` output folder.
    Train,
    /// A study's `data/<name>/` folder.
    Study,
}

/// Recognises a train folder (the trainer's `config.json`) or a study folder (its
/// `study.toml` copy and `config.json`).
///
/// # Errors
/// [`Error::File`] naming `dir` when it is neither.
pub fn kind(dir: &Path) -> Result<Folder> {
    if train::is_train_folder(dir) {
        Ok(Folder::Train)
    } else if dir.join("study.toml").is_file() && dir.join("config.json").is_file() {
        Ok(Folder::Study)
    } else {
        Err(Error::file(
            dir,
            "is neither a train output folder (config.json of a training run) nor a study's \
             data/<name>/ folder (study.toml and config.json)",
        ))
    }
}

/// Draws the figures and the report of `dir` again; returns what it wrote.
///
/// # Errors
/// As [`kind`], [`train::render`] and [`crate::study::run_study_mode`].
pub fn render(dir: &Path) -> Result<Vec<PathBuf>> {
    match kind(dir)? {
        Folder::Train => train::render(dir),
        Folder::Study => {
            let cfg: serde_json::Value = std::fs::read(dir.join("config.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            let quick = cfg["quick"].as_bool().unwrap_or(false);
            // dir = <root>/data/<folder>.
            let root = dir
                .parent()
                .and_then(Path::parent)
                .filter(|_| dir.parent().and_then(Path::file_name).is_some_and(|n| n == "data"))
                .ok_or_else(|| {
                    Error::file(dir, "a study folder must sit in <root>/data/ (its figures go to <root>/figures/)")
                })?;
            // The copy of the study file kept beside the outputs (read whole before the
            // merge writes it again).
            let out = crate::study::run_study_mode(
                &dir.join("study.toml"),
                root,
                quick,
                crate::study::RunMode::Merge,
            )?;
            Ok(vec![out.report, out.figure_dir])
        }
    }
}
