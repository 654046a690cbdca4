//! The text of the job scripts: `array.sh`, `merge.sh` and `submit.sh`, with the
//! comments that say how each request was estimated.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{
    MEM_BASE_MIB, MEM_FLOOR_MIB, MEM_STEP_MIB, MERGE_SECONDS_PER_RUN, MERGE_TIME_FLOOR_SECONDS,
    Resources, SlurmOptions, TIME_FLOOR_SECONDS, slurm_time,
};
use crate::export::slug;

/// What the scripts name besides the resources.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptSpec {
    /// The study's name (job names).
    pub study: String,
    /// The redqueen binary, absolute.
    pub binary: PathBuf,
    /// The working directory, absolute.
    pub workdir: PathBuf,
    /// The study's arguments as the user wrote them: the file, `--root R`, `--quick`.
    pub args: Vec<String>,
    /// The folder of the scripts, absolute.
    pub dir: PathBuf,
    /// Comment lines: how the run times were measured.
    pub calibration: Vec<String>,
}

/// `s` as one shell word: as it is when it has only characters no shell treats
/// specially, otherwise single-quoted (a `'` inside becomes `'\''`).
#[must_use]
pub fn sh_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.,:+/=@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn mib_text(mib: f64) -> String {
    if mib < 1.0 {
        format!("{:.0} KiB", mib * 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// The common head of a job script: what it is, how each request was estimated,
/// the `#SBATCH` lines, and the binary and working directory.
fn job_head(s: &ScriptSpec, r: &Resources, o: &SlurmOptions, merge: bool) -> String {
    let req = if merge { &r.merge } else { &r.array };
    let mut t = String::from("#!/bin/bash\n");
    let name = slug(&s.study);
    if merge {
        writeln!(t, "# redqueen study `{}`: merge job. Aggregates the {} runs written by the array job (array.sh)\n# into the summary CSVs, figures and report. submit.sh queues it with\n# --dependency=afterok:<array job id>, so it starts only when every shard succeeded.", s.study, r.runs).ok();
    } else {
        writeln!(t, "# redqueen study `{}`: array job, one task per shard ({} shards of {} runs).\n# Task I runs `--shard I/{}`; submit.sh queues it with the merge job (merge.sh).\n# To rerun only some shards after a failure: sbatch --array=3,5 array.sh, then sbatch merge.sh.", s.study, r.shards, r.runs, r.shards).ok();
    }
    writeln!(t, "# Written by `redqueen study {} --slurm` (redqueen {}).\n#\n# How each request was estimated (on the machine that wrote this script):", s.args.join(" "), env!("CARGO_PKG_VERSION")).ok();
    if merge {
        writeln!(t, "# - time: {MERGE_SECONDS_PER_RUN} s per run × {} runs = {:.0} s, × time factor {} = {:.0} s;\n#   floor {} min; rounded up to the minute: {}.", r.runs, req.estimate_seconds, r.time_factor, req.estimate_seconds * r.time_factor, MERGE_TIME_FLOOR_SECONDS / 60, slurm_time(req.time_seconds)).ok();
        writeln!(
            t,
            "# - cpus: {} ({}).",
            req.cpus,
            if req.cpus == 1 {
                "the aggregation is light; the study has no reduced-game blocks"
            } else {
                "the study's reduced-game blocks run here, in parallel"
            }
        )
        .ok();
        writeln!(t, "# - mem: the process ({MEM_BASE_MIB} MiB; the aggregation measured under 16 MB resident);\n#   floor {MEM_FLOOR_MIB} MiB: {} MiB.", req.mem_mib).ok();
    } else {
        writeln!(t, "# - time: each run's cost (steps × updates per step × batch) × the seconds per unit of\n#   cost measured by timing a shortened copy of each setting's first run on one core:").ok();
        for l in &s.calibration {
            writeln!(t, "#     {l}").ok();
        }
        writeln!(t, "#   {:.1} s of runs on one core in all. The slowest shard (shard {}, runs {}..{}) on {} CPUs\n#   takes at most Σt/C + (1 − 1/C)·max t = {:.1} s (Graham's list-scheduling bound);\n#   × time factor {} = {:.1} s; floor {} min; rounded up to the minute: {}.", r.total_seconds, r.slowest.0, r.slowest.1.start, r.slowest.1.end, req.cpus, req.estimate_seconds, r.time_factor, req.estimate_seconds * r.time_factor, TIME_FLOOR_SECONDS / 60, slurm_time(req.time_seconds)).ok();
        writeln!(t, "# - cpus: {} runs at once (each run is single-threaded; {} asked, at most the\n#   largest shard's run count).", req.cpus, o.cpus_per_task).ok();
        writeln!(t, "# - mem: the process ({MEM_BASE_MIB} MiB) + {} × the largest run's modelled peak (its networks'\n#   workspaces at its largest batch, parameters, logs) = {}; floor {MEM_FLOOR_MIB} MiB, rounded up\n#   to {MEM_STEP_MIB} MiB: {} MiB.", req.cpus, mib_text(req.estimate_mib), req.mem_mib).ok();
    }
    t.push_str("# For your cluster: --partition and --account (regenerate with them, or edit below);\n# a larger --time if its cores are slower than this machine's (regenerate with\n# --time-factor); `module load` lines below if the binary needs them. The binary and the\n# working directory must be visible from the compute nodes (a shared file system), or\n# set REDQUEEN_BIN and REDQUEEN_WORKDIR when you submit.\n");
    writeln!(
        t,
        "#SBATCH --job-name=rq-{name}{}",
        if merge { "-merge" } else { "" }
    )
    .ok();
    if !merge {
        writeln!(t, "#SBATCH --array=0-{}", r.shards - 1).ok();
    }
    writeln!(t, "#SBATCH --cpus-per-task={}", req.cpus).ok();
    writeln!(t, "#SBATCH --mem={}M", req.mem_mib).ok();
    writeln!(t, "#SBATCH --time={}", slurm_time(req.time_seconds)).ok();
    if let Some(p) = &o.partition {
        writeln!(t, "#SBATCH --partition={p}").ok();
    }
    if let Some(a) = &o.account {
        writeln!(t, "#SBATCH --account={a}").ok();
    }
    writeln!(t, "set -euo pipefail\ndefault_bin={}\ndefault_workdir={}\nredqueen=\"${{REDQUEEN_BIN:-$default_bin}}\"\ncd \"${{REDQUEEN_WORKDIR:-$default_workdir}}\"", sh_quote(&s.binary.to_string_lossy()), sh_quote(&s.workdir.to_string_lossy())).ok();
    t
}

fn study_args(s: &ScriptSpec) -> String {
    s.args
        .iter()
        .map(|a| sh_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The array job: task I runs `study … --shard I/N` on `$SLURM_CPUS_PER_TASK` threads.
#[must_use]
pub fn array_script(s: &ScriptSpec, r: &Resources, o: &SlurmOptions) -> String {
    let mut t = job_head(s, r, o, false);
    writeln!(t, ": \"${{SLURM_ARRAY_TASK_ID:?submit this script with sbatch (see submit.sh)}}\"\necho \"shard $SLURM_ARRAY_TASK_ID/{n} on $(hostname) in $PWD\"\nexec \"$redqueen\" study {} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --threads \"${{SLURM_CPUS_PER_TASK:-{}}}\"", study_args(s), r.array.cpus, n = r.shards).ok();
    t
}

/// The merge job: `study … --merge`.
#[must_use]
pub fn merge_script(s: &ScriptSpec, r: &Resources, o: &SlurmOptions) -> String {
    let mut t = job_head(s, r, o, true);
    writeln!(t, "echo \"merge on $(hostname) in $PWD\"\nexec \"$redqueen\" study {} --merge --threads \"${{SLURM_CPUS_PER_TASK:-{}}}\"", study_args(s), r.merge.cpus).ok();
    t
}

/// The submit script: the array, then the merge after it (`afterok`), logs in `logs/`;
/// extra arguments go to both `sbatch` calls; the job ids are printed and written to
/// `array.jobid` and `merge.jobid`.
#[must_use]
pub fn submit_script(s: &ScriptSpec, r: &Resources) -> String {
    format!(
        r#"#!/bin/bash
# Submits the {n}-task array job (array.sh) and the merge job (merge.sh), which starts only
# when every task succeeded (--dependency=afterok) and is cancelled if one fails
# (--kill-on-invalid-dep=yes). Arguments go to both sbatch calls, e.g.
#   bash submit.sh --qos=long --mail-type=END
# Logs: logs/rq-<study>-<array id>_<task>.out and logs/rq-<study>-merge-<id>.out.
set -euo pipefail
dir={dir}
command -v sbatch >/dev/null || {{ echo "submit.sh: sbatch not found (run this on a SLURM login node)" >&2; exit 1; }}
mkdir -p "$dir/logs"
array=$(sbatch --parsable --output="$dir/logs/%x-%A_%a.out" "$@" "$dir/array.sh")
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --output="$dir/logs/%x-%j.out" "$@" "$dir/merge.sh")
merge=${{merge%%;*}}
echo "$array" > "$dir/array.jobid"
echo "$merge" > "$dir/merge.jobid"
echo "submitted array job $array ({n} shards of {runs} runs) and merge job $merge (after the array succeeds)"
echo "watch with: squeue -j $array,$merge    outputs: the study's data/ and figures/ folders; logs: $dir/logs"
"#,
        n = r.shards,
        runs = r.runs,
        dir = sh_quote(&s.dir.to_string_lossy()),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::slurm::{RunCost, resources};

    fn runs(seconds: &[f64]) -> Vec<RunCost> {
        seconds
            .iter()
            .map(|&s| RunCost {
                seconds: s,
                bytes: 0,
            })
            .collect()
    }

    fn opts(shards: Option<usize>, cpus: usize) -> SlurmOptions {
        SlurmOptions {
            shards,
            cpus_per_task: cpus,
            time_factor: 2.0,
            ..SlurmOptions::default()
        }
    }

    fn spec(dir: &Path) -> ScriptSpec {
        ScriptSpec {
            study: "my study".into(),
            binary: PathBuf::from("/opt/red queen/bin/redqueen"),
            workdir: dir.to_path_buf(),
            args: vec![
                "studies/it's.toml".into(),
                "--root".into(),
                "out dir".into(),
                "--quick".into(),
            ],
            dir: dir.join("slurm"),
            calibration: vec!["block 0 `a`: 0.1 s".into()],
        }
    }

    fn three_shards() -> Resources {
        resources(
            &runs(&[100.0, 100.0, 1000.0, 10.0, 10.0, 10.0]),
            &opts(Some(3), 4),
            false,
        )
        .unwrap()
    }

    #[test]
    fn scripts_carry_the_array_the_requests_and_the_dependency() {
        let s = spec(Path::new("/data/w"));
        let r = three_shards();
        let o = SlurmOptions {
            partition: Some("short".into()),
            account: Some("proj-42".into()),
            ..opts(Some(3), 4)
        };
        let array = array_script(&s, &r, &o);
        for line in [
            "#SBATCH --array=0-2\n",
            "#SBATCH --cpus-per-task=2\n",
            "#SBATCH --time=00:34:00\n",
            "#SBATCH --mem=1024M\n",
            "#SBATCH --partition=short\n",
            "#SBATCH --account=proj-42\n",
            "#SBATCH --job-name=rq-my_study\n",
            "--shard \"$SLURM_ARRAY_TASK_ID/3\"",
        ] {
            assert!(array.contains(line), "array.sh lacks {line:?}:\n{array}");
        }
        let merge = merge_script(&s, &r, &o);
        assert!(
            merge.contains(" --merge ") && !merge.contains("--array") && !merge.contains("--shard")
        );
        assert!(merge.contains("#SBATCH --time=00:15:00\n"));
        let plain = array_script(&s, &r, &opts(Some(3), 4));
        assert!(!plain.contains("#SBATCH --partition") && !plain.contains("#SBATCH --account"));
        let submit = submit_script(&s, &r);
        let a = submit.find("sbatch --parsable --output").unwrap();
        let m = submit.find("--dependency=\"afterok:$array\"").unwrap();
        assert!(a < m, "the array is submitted before the merge");
        assert!(submit.contains("--kill-on-invalid-dep=yes"));
        assert!(submit.contains("\"$dir/array.sh\"") && submit.contains("\"$dir/merge.sh\""));
    }

    /// The scripts are valid bash, quote every path, and honour the environment
    /// overrides: array.sh run by hand with a stand-in binary prints the command line
    /// a SLURM task would run.
    #[cfg(unix)]
    #[test]
    fn scripts_parse_and_run_with_a_stand_in_binary() {
        use std::process::Command;
        let tmp = tempfile::tempdir().unwrap();
        let s = spec(tmp.path());
        let r = three_shards();
        let o = opts(Some(3), 4);
        for (name, text) in [
            ("array.sh", array_script(&s, &r, &o)),
            ("merge.sh", merge_script(&s, &r, &o)),
            ("submit.sh", submit_script(&s, &r)),
        ] {
            let p = tmp.path().join(name);
            std::fs::write(&p, text).unwrap();
            let st = Command::new("bash").arg("-n").arg(&p).status().unwrap();
            assert!(st.success(), "{name} is not valid bash");
        }
        let out = Command::new("bash")
            .arg(tmp.path().join("array.sh"))
            .current_dir("/")
            .env("REDQUEEN_BIN", "echo")
            .env("SLURM_ARRAY_TASK_ID", "1")
            .env_remove("SLURM_CPUS_PER_TASK")
            .env_remove("REDQUEEN_WORKDIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let first = lines.next().unwrap();
        assert!(
            first.ends_with(&format!("in {}", tmp.path().display())),
            "{first}"
        );
        assert_eq!(
            lines.next().unwrap(),
            "study studies/it's.toml --root out dir --quick --shard 1/3 --threads 2"
        );
        // Without a task id the array script refuses to run.
        let out = Command::new("bash")
            .arg(tmp.path().join("array.sh"))
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env("REDQUEEN_BIN", "echo")
            .output()
            .unwrap();
        assert!(!out.status.success());
    }

    #[cfg(unix)]
    #[test]
    fn shell_quoting_round_trips() {
        for s in [
            "plain/path-1.2",
            "a b",
            "it's",
            "$HOME",
            "x;rm -rf /",
            "",
            "é",
            "a\"b`c`",
        ] {
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {}", sh_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), s, "{}", sh_quote(s));
        }
        assert_eq!(sh_quote("studies/x.toml"), "studies/x.toml");
    }
}
