//! Parameter checkpoints of a training run (`checkpoint_every`), and their loader.
//!
//! # Files (in `<run>/checkpoints/`, each written atomically)
//! * `step-NNNNNN.npy`: the joint vector x = (θ_G, ψ) after step N (step 0 is the
//!   initial point), a 1-D float64 NumPy array (`numpy.load` reads it);
//! * `optimizer-NNNNNN.npy`: the optimisers' slots after step N, the generator's then
//!   the discriminator's, each in chain order (Adam: m then s, one value per coordinate
//!   of the player; momentum and optimistic: one slot; SGD: none). The step counters are
//!   not stored: t_G = N·k_G and t_D = N·k_D (updates per step of the schedule);
//! * `layout.json` ([`Layout`]): every block of x with its offset and shape, and what is
//!   needed to rebuild both networks and the field elsewhere.
//!
//! # The layout of x (verified against [`crate::nn::Mlp::blocks`])
//! Player by player, generator first, then the discriminator (then InfoGAN's Q); layer
//! by layer from the input. A dense layer is W then b, with W of shape [out, in] stored
//! row-major and y = W·a + b (PyTorch's `Linear.weight`, `Linear.bias`). This is the
//! same memory as the networks' own column-major in × out matrix of A = H·W (entry
//! (i, j) at j·in + i), so a checkpoint is the parameter vector itself, not a copy in
//! another order. Maxout layers: W [k·out, in], row j·k + p is piece p of unit j;
//! batch norm: W [out, in] then γ [out] and β [out], no bias; minibatch discrimination:
//! T as W [kernels·dim, in].
//!
//! The loader ([`load_run`], [`load_step`]) checks `layout.json` against the layout
//! the run's `config.json` implies and every file's size, so a truncated, missing or
//! foreign file is one error naming the file.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::train::ValidConfig;
use super::train::config::TrainConfig;
use crate::dynamics::{Observer, RuleState};
use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::linalg::{Vector, all_finite};
use crate::nn::{LayerSpec, Mlp};
use crate::optim::ChainState;

/// The folder of a run that holds the checkpoints.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// Version of the layout format (bumped on any change of meaning).
pub const LAYOUT_VERSION: u32 = 1;

/// One block of x.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// `W`, `b`, `gamma`, `beta` or `T`.
    pub name: String,
    /// First index in x.
    pub offset: usize,
    /// Shape: [out, in] for matrices (row-major), [out] for vectors.
    pub shape: Vec<usize>,
}

/// One layer of a network with its blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerLayout {
    /// The layer as the networks describe it (widths, activation, dropout keep, kind
    /// with its parameters).
    pub spec: LayerSpec,
    /// Its blocks in x.
    pub blocks: Vec<Block>,
}

/// One network of a player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkLayout {
    /// `generator`, `discriminator` or `q`.
    pub name: String,
    /// First index in x.
    pub offset: usize,
    /// Number of parameters.
    pub len: usize,
    /// Layers from the input.
    pub layers: Vec<LayerLayout>,
}

/// `checkpoints/layout.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// [`LAYOUT_VERSION`].
    pub version: u32,
    /// `x = (theta_G, psi_D); W [out, in] row-major, y = W a + b (PyTorch Linear)`.
    pub convention: String,
    /// Length of x.
    pub n: usize,
    /// |θ_G| (the generator's coordinates are x[0..n_generator]).
    pub n_generator: usize,
    /// Generator, discriminator, then Q (InfoGAN) if any.
    pub networks: Vec<NetworkLayout>,
    /// Loss, penalty, latent, data set, schedule, optimisers, pack, … as in the run's
    /// configuration (the [`TrainConfig`] in its JSON form).
    pub config: serde_json::Value,
    /// Optimiser state file: slot names per player in order, and lengths.
    pub optimizer: OptimizerLayout,
}

/// What `optimizer-NNNNNN.npy` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerLayout {
    /// Slot names of the generator's chain (e.g. `["m", "s"]` for Adam), each of
    /// length n_generator.
    pub generator_slots: Vec<String>,
    /// Slot names of the discriminator's chain, each of length n − n_generator.
    pub discriminator_slots: Vec<String>,
    /// Total length of the file's array.
    pub len: usize,
}

fn slot_names(chain: &crate::optim::Chain) -> Vec<String> {
    use crate::optim::Transform;
    chain
        .0
        .iter()
        .flat_map(|t| match t {
            Transform::Scale { .. } => vec![],
            Transform::Momentum { .. } => vec!["momentum"],
            Transform::Optimistic => vec!["previous_u"],
            Transform::Adam { .. } => vec!["m", "s"],
            Transform::RmsProp { .. } => vec!["s"],
        })
        .map(String::from)
        .collect()
}

fn network_layout(name: &str, net: &Mlp, offset: usize) -> NetworkLayout {
    let blocks = net.blocks();
    let layers = net
        .layers()
        .iter()
        .enumerate()
        .map(|(l, spec)| LayerLayout {
            spec: *spec,
            blocks: blocks
                .iter()
                .filter(|b| b.layer == l)
                .map(|b| Block {
                    name: b.name.to_string(),
                    offset: offset + b.offset,
                    // Column-major rows × cols (in × out) is row-major [out, in]; a
                    // matrix keeps both axes even with one output (D's last layer).
                    shape: if matches!(b.name, "W" | "T") {
                        vec![b.cols, b.rows]
                    } else {
                        vec![b.rows]
                    },
                })
                .collect(),
        })
        .collect();
    NetworkLayout {
        name: name.to_string(),
        offset,
        len: net.n_params(),
        layers,
    }
}

impl Layout {
    /// The layout of x that `cfg` implies.
    ///
    /// # Errors
    /// As [`TrainConfig::networks`].
    pub fn of(cfg: &ValidConfig) -> Result<Self> {
        let (g, d, q) = cfg.networks(cfg.data().dim())?;
        let mut networks = vec![network_layout("generator", &g, 0)];
        networks.push(network_layout("discriminator", &d, g.n_params()));
        if let Some(qn) = &q {
            networks.push(network_layout("q", qn, g.n_params() + d.n_params()));
        }
        let n = networks.iter().map(|nl| nl.len).sum::<usize>();
        let rule = cfg.rule_spec();
        let (gs, ds) = (slot_names(&rule.g.chain()), slot_names(&rule.d.chain()));
        let ng = g.n_params();
        let config: &TrainConfig = cfg;
        Ok(Layout {
            version: LAYOUT_VERSION,
            convention: "x = (theta_G, psi_D [, psi_Q]); each layer W [out, in] row-major then b; \
                         y = W a + b (PyTorch Linear)"
                .into(),
            n,
            n_generator: ng,
            networks,
            config: serde_json::to_value(config)
                .map_err(|e| Error::param("config", e.to_string()))?,
            optimizer: OptimizerLayout {
                len: gs.len() * ng + ds.len() * (n - ng),
                generator_slots: gs,
                discriminator_slots: ds,
            },
        })
    }
}

/// The file of the parameters after `step`.
#[must_use]
pub fn step_path(dir: &Path, step: usize) -> PathBuf {
    dir.join(CHECKPOINT_DIR).join(format!("step-{step:06}.npy"))
}

/// The file of the optimiser state after `step`.
#[must_use]
pub fn optimizer_path(dir: &Path, step: usize) -> PathBuf {
    dir.join(CHECKPOINT_DIR)
        .join(format!("optimizer-{step:06}.npy"))
}

/// The observer that writes checkpoints (wrap it in [`crate::dynamics::Every`]).
pub struct Checkpoints<'a> {
    dir: &'a Path,
    /// The files written.
    pub files: Vec<PathBuf>,
}

impl<'a> Checkpoints<'a> {
    /// Creates `<dir>/checkpoints/` and writes `layout.json` there.
    ///
    /// # Errors
    /// [`Error::File`] if the folder or the file cannot be written.
    pub fn new(cfg: &ValidConfig, dir: &'a Path) -> Result<Self> {
        let folder = dir.join(CHECKPOINT_DIR);
        crate::output::create_dir(&folder)?;
        let path = folder.join("layout.json");
        let layout = Layout::of(cfg)?;
        write_atomic(
            &path,
            serde_json::to_string_pretty(&layout)
                .map_err(|e| Error::file(&path, e))?
                .as_bytes(),
        )?;
        Ok(Checkpoints {
            dir,
            files: vec![path],
        })
    }
}

impl Observer for Checkpoints<'_> {
    fn observe(&mut self, step: usize, x: &Vector, st: &RuleState) -> Result<ControlFlow<String>> {
        // A non-finite state is not a checkpoint (the run is about to stop as diverged).
        if all_finite(x.as_slice()) {
            let path = step_path(self.dir, step);
            crate::npy::write_vector(&path, x.as_slice())?;
            self.files.push(path);
            let slots: Vec<f64> = st.g.slots.iter().chain(&st.d.slots).copied().collect();
            let path = optimizer_path(self.dir, step);
            crate::npy::write_vector(&path, &slots)?;
            self.files.push(path);
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// A run folder opened for analysis: its validated configuration and layout.
#[derive(Debug, Clone)]
pub struct RunCheckpoints {
    /// The run folder.
    pub dir: PathBuf,
    /// The run's configuration (from `config.json`).
    pub config: ValidConfig,
    /// The layout (checked against the configuration).
    pub layout: Layout,
    /// The checkpointed steps, ascending.
    pub steps: Vec<usize>,
}

/// A loaded checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The step.
    pub step: usize,
    /// x = (θ_G, ψ).
    pub x: Vector,
    /// The optimisers' state (step counters from the schedule), if its file exists.
    pub optimizer: Option<(ChainState, ChainState)>,
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::file(path, format!("not valid JSON: {e}")))
}

/// Opens a training run's folder: reads `config.json`, validates it, and checks
/// `checkpoints/layout.json` against the layout it implies.
///
/// # Errors
/// [`Error::File`] naming the missing or inconsistent file; the configuration's own
/// errors.
pub fn load_run(dir: &Path) -> Result<RunCheckpoints> {
    let cpath = dir.join("config.json");
    let v = read_json(&cpath)?;
    let raw = v
        .get("config")
        .ok_or_else(|| Error::file(&cpath, "has no `config` object (not a training run)"))?;
    let config: TrainConfig = serde_json::from_value(raw.clone())
        .map_err(|e| Error::file(&cpath, format!("not a training configuration: {e}")))?;
    let config = config.validated()?;
    let lpath = dir.join(CHECKPOINT_DIR).join("layout.json");
    let written: Layout = serde_json::from_value(read_json(&lpath)?)
        .map_err(|e| Error::file(&lpath, format!("not a checkpoint layout: {e}")))?;
    let expected = Layout::of(&config)?;
    if written.networks != expected.networks || written.n != expected.n {
        return Err(Error::file(
            &lpath,
            format!(
                "does not match the networks of {} (n = {} written, {} configured)",
                cpath.display(),
                written.n,
                expected.n
            ),
        ));
    }
    if written.config != expected.config || written.optimizer != expected.optimizer {
        return Err(Error::file(
            &lpath,
            format!(
                "was written for another configuration than {}",
                cpath.display()
            ),
        ));
    }
    let folder = dir.join(CHECKPOINT_DIR);
    let mut steps: Vec<usize> = std::fs::read_dir(&folder)
        .map_err(|e| Error::file(&folder, e))?
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_prefix("step-")?
                .strip_suffix(".npy")?
                .parse()
                .ok()
        })
        .collect();
    steps.sort_unstable();
    if steps.is_empty() {
        return Err(Error::file(&folder, "holds no step-NNNNNN.npy checkpoint"));
    }
    Ok(RunCheckpoints {
        dir: dir.to_path_buf(),
        config,
        layout: expected,
        steps,
    })
}

impl RunCheckpoints {
    /// Loads the checkpoint of `step`, checking its length (and the optimiser file's).
    ///
    /// # Errors
    /// [`Error::File`] naming a missing, truncated or mis-sized file;
    /// [`Error::Param`] (`--step`) for a step that was not checkpointed.
    pub fn load(&self, step: usize) -> Result<Checkpoint> {
        let path = step_path(&self.dir, step);
        if !self.steps.contains(&step) {
            return Err(Error::param(
                "--step",
                format!(
                    "{step} was not checkpointed in {} (steps {:?})",
                    path.display(),
                    self.steps
                ),
            ));
        }
        let x = crate::npy::read_vector(&path)?;
        if x.len() != self.layout.n {
            return Err(Error::file(
                &path,
                format!(
                    "holds {} numbers, the layout has n = {}",
                    x.len(),
                    self.layout.n
                ),
            ));
        }
        if !all_finite(&x) {
            return Err(Error::file(&path, "holds a non-finite parameter"));
        }
        let opath = optimizer_path(&self.dir, step);
        let optimizer = if opath.exists() {
            let s = crate::npy::read_vector(&opath)?;
            let ol = &self.layout.optimizer;
            if s.len() != ol.len {
                return Err(Error::file(
                    &opath,
                    format!("holds {} numbers, the layout has {}", s.len(), ol.len),
                ));
            }
            let cut = ol.generator_slots.len() * self.layout.n_generator;
            let (kg, kd) = self.config.schedule.updates_per_step();
            Some((
                ChainState {
                    t: (step * kg) as u64,
                    slots: s[..cut].to_vec(),
                },
                ChainState {
                    t: (step * kd) as u64,
                    slots: s[cut..].to_vec(),
                },
            ))
        } else {
            None
        };
        Ok(Checkpoint {
            step,
            x: Vector::from_vec(x),
            optimizer,
        })
    }
}
