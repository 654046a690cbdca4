#!/usr/bin/env bash
# End-to-end test of redqueen on a real SLURM: a single-node cluster on this machine.
#
#   sudo bash scripts/slurm-e2e.sh          (as root: it installs packages and starts daemons)
#
# 1. Installs `slurm-wlm` and `munge` from the Debian packages (when missing).
# 2. Writes a munge key and a slurm.conf for one node (localhost, this machine's cores and
#    memory, no cgroups: proctrack/linuxproc, task/none, no accounting) into a temporary
#    directory, and starts munged, slurmctld and slurmd from it, on their own socket and
#    ports, so an existing SLURM or munge installation is left alone.
# 3. Builds redqueen (release).
# 4. Studies: `redqueen study STUDY --quick --slurm --shards 3`, submits with the printed
#    command (from another directory), waits for the array and the dependent merge, and
#    compares every CSV with an unsharded `--quick` run of the same study, byte for byte.
#    Then once more with a failing binary (REDQUEEN_BIN=/bin/false): the array fails and
#    the merge must be cancelled, not run.
# 5. Sweep: the same sweep as an unsharded run and as a 3-task array job followed by a
#    dependent `redqueen merge`, compared byte for byte.
# The daemons it started are stopped on exit (trap). Exit status 0 only when every job
# completed and every compared file is identical.
#
# Environment: SLURM_E2E_STUDIES (default: constraints-latent and point-sets), SLURM_E2E_SHARDS
# (3), SLURM_E2E_TIMEOUT (seconds per wait, 900), SLURM_E2E_KEEP=1 keeps the work folder.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Two neural studies whose quick mode takes seconds: one block with three settings, and
# three blocks with D-surface frames (the shards then cross block boundaries).
studies=${SLURM_E2E_STUDIES:-studies/constraints-latent.toml studies/point-sets.toml}
shards=${SLURM_E2E_SHARDS:-3}
timeout=${SLURM_E2E_TIMEOUT:-900}
ctld_port=${SLURM_E2E_CTLD_PORT:-16817}
slurmd_port=${SLURM_E2E_SLURMD_PORT:-16818}

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'slurm-e2e: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "slurm-e2e: run as root (it installs packages and starts daemons)" >&2; exit 2; }

say "packages"
if dpkg-query -W -f='${Status}\n' slurm-wlm munge 2>/dev/null | grep -vq "install ok installed" \
    || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge
fi
slurmctld -V
munged -V

work=$(mktemp -d -t redqueen-slurm-e2e.XXXXXX)
chmod 755 "$work"
started=()   # pid files of the daemons this script started

cleanup() {
    local status=$?
    set +e
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$work/jobs" ]; then
        # Jobs still queued or running (after a failure or a timeout) go first.
        xargs -r scancel < "$work/jobs" 2>/dev/null
        sleep 1
    fi
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        local pidfile=${started[i]}
        [ -f "$pidfile" ] || continue
        local pid
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
            echo "stopped $(basename "$pidfile" .pid) (pid $pid)"
        fi
    done
    if [ "$status" -ne 0 ]; then
        for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/munge/munged.log; do
            [ -f "$log" ] && { echo "--- last lines of $log"; tail -n 20 "$log"; }
        done
        echo "slurm-e2e: work folder kept: $work"
    elif [ "${SLURM_E2E_KEEP:-0}" = 1 ]; then
        echo "slurm-e2e: work folder kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "munge"
mkdir -p "$work/munge"
chmod 700 "$work/munge"
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$work/munge/munge.key"
else
    dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed"
started+=("$work/munge/munged.pid")
munge -n -S "$socket" | unmunge -S "$socket" | grep STATUS

say "slurm.conf"
node=$(hostname -s)
cpus=$(nproc)
# RealMemory must not exceed what slurmd detects, or the node is drained.
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=redqueen-e2e
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=3600
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=e2e Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
cat "$SLURM_CONF"

say "daemons"
slurmctld -c -f "$SLURM_CONF"
started+=("$work/slurmctld.pid")
slurmd -f "$SLURM_CONF"
started+=("$work/slurmd.pid")
state=""
for _ in $(seq 120); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || fail "node $node is '$state', not idle, after 60 s"
sinfo

say "build"
cd "$repo"
cargo build --release
bin="$repo/target/release/redqueen"

# Waits until the jobs have left the queue, prints their final states, and checks that
# each of them (every task of an array) ended in state $2 (default COMPLETED).
wait_jobs() {
    local ids="$1" want="${2:-COMPLETED}" t0=$SECONDS id
    while [ -n "$(squeue -h -j "$ids" -o %i 2>/dev/null)" ]; do
        (( SECONDS - t0 < timeout )) || fail "jobs $ids still queued after $timeout s: $(squeue -j "$ids")"
        # Requests no node can meet stay pending for ever: fail at once.
        if squeue -h -j "$ids" -o %r 2>/dev/null | grep -Eq 'PartitionConfig|BadConstraints|PartitionNodeLimit'; then
            fail "jobs $ids cannot run on this node: $(squeue -j "$ids")"
        fi
        sleep 1
    done
    for id in ${ids//,/ }; do
        scontrol -o show job "$id" | awk '{ for (i = 1; i <= NF; i++)
            if ($i ~ /^(JobId|ArrayTaskId|JobName|JobState|Reason|RunTime|ExitCode)=/) printf "%s ", $i; print "" }'
        if scontrol -o show job "$id" | grep -o 'JobState=[A-Z_]*' | grep -vq "JobState=$want"; then
            fail "job $id did not end $want"
        fi
    done
}

# Compares two trees: every CSV byte for byte (fails on any difference or a missing
# file), then lists the other files that differ.
compare_trees() {
    local a="$1" b="$2" n=0 f
    (cd "$a" && find . -name '*.csv' | sort) > "$work/csv-a"
    (cd "$b" && find . -name '*.csv' | sort) > "$work/csv-b"
    diff "$work/csv-a" "$work/csv-b" || fail "the CSV files differ in name between $a and $b"
    while read -r f; do
        cmp -s "$a/$f" "$b/$f" || fail "$f differs"
        n=$((n + 1))
    done < "$work/csv-a"
    [ "$n" -gt 0 ] || fail "no CSV files under $a"
    echo "all $n CSV files are byte-identical"
    echo "other files that differ (diff -rq, CSVs and slurm/ aside; runs/*/timing.json counted):"
    diff -rq -x '*.csv' -x slurm "$a" "$b" | awk '{ print $2 }' | sed "s|^$a/||" > "$work/differ" || true
    grep -v '/timing.json$' "$work/differ" | sed 's/^/  /' || true
    echo "  and $(grep -c '/timing.json$' "$work/differ" || true) runs' timing.json (wall times)"
}

for study in $studies; do
say "study: redqueen study $study --quick --slurm --shards $shards --cpus-per-task $cpus"
cd "$repo"
root="$work/slurm-root/$(basename "$study" .toml)"
# --cpus-per-task: the default (4) asks for more cores than a small node has, and SLURM
# would keep such tasks pending for ever (reason PartitionConfig).
"$bin" study "$study" --quick --slurm --shards "$shards" --cpus-per-task "$cpus" --root "$root" | tee "$work/generate.txt"
submit=$(grep -A1 '^submit with:' "$work/generate.txt" | tail -n 1)
[ -n "$submit" ] || fail "no submit command printed"
dir=$(dirname "$(ls "$root"/data/*/slurm/submit.sh)")
name=$(basename "$(dirname "$dir")")
for f in array.sh merge.sh submit.sh; do echo "--- $dir/$f"; cat "$dir/$f"; done
say "submit from another directory: $submit"
(cd / && eval "$submit")
array=$(cat "$dir/array.jobid")
merge=$(cat "$dir/merge.jobid")
echo "$array $merge" >> "$work/jobs"
scontrol -o show job "$merge" | grep -o 'Dependency=[^ ]*'
squeue
wait_jobs "$array,$merge"
for log in "$dir"/logs/*; do echo "--- $log"; cat "$log"; done

say "study: the unsharded run of $study, compared"
local_root="$work/local-root/$(basename "$study" .toml)"
"$bin" study "$study" --quick --root "$local_root"
compare_trees "$local_root/data/$name" "$root/data/$name"
echo "--- report.md, unsharded (<) vs SLURM (>):"
diff "$local_root/data/$name/report.md" "$root/data/$name/report.md" || true
echo "--- config.json, unsharded (<) vs SLURM (>):"
diff "$local_root/data/$name/config.json" "$root/data/$name/config.json" || true
if diff -rq "$local_root/figures/$name" "$root/figures/$name"; then
    echo "figures: all $(find "$root/figures/$name" -type f | wc -l) files identical"
else
    echo "figures: the files above differ"
fi

say "study: a failing array cancels the merge ($study, REDQUEEN_BIN=/bin/false)"
froot="$work/fail-root/$(basename "$study" .toml)"
"$bin" study "$study" --quick --slurm --shards "$shards" --cpus-per-task "$cpus" --root "$froot" > "$work/generate.txt"
fdir=$(dirname "$(ls "$froot"/data/*/slurm/submit.sh)")
(cd / && REDQUEEN_BIN=/bin/false bash "$fdir/submit.sh")
farray=$(cat "$fdir/array.jobid")
fmerge=$(cat "$fdir/merge.jobid")
echo "$farray $fmerge" >> "$work/jobs"
wait_jobs "$farray" FAILED
wait_jobs "$fmerge" CANCELLED
[ ! -e "$froot/data/$name/report.md" ] || fail "the merge ran after a failed array"
echo "the array failed and the merge was cancelled without running"
done

say "sweep: unsharded and as a $shards-task array job with a dependent merge"
sweep=(sweep dirac --rule simultaneous --lr-g 1e-3:1:30 --lr-d 1e-3:1:30 --steps 3000)
"$bin" "${sweep[@]}" --out "$work/sweep-local"
mkdir -p "$work/sweep-job/logs" "$work/sweep-shards"
quoted=$(printf '%q ' "$bin" "${sweep[@]}")
cat > "$work/sweep-job/array.sh" <<EOF
#!/bin/bash
#SBATCH --job-name=rq-sweep
#SBATCH --array=0-$((shards - 1))
#SBATCH --cpus-per-task=1
#SBATCH --mem=1024M
#SBATCH --time=00:10:00
set -euo pipefail
exec $quoted --shard "\$SLURM_ARRAY_TASK_ID/$shards" --threads 1 --out $(printf '%q' "$work/sweep-shards")
EOF
cat > "$work/sweep-job/merge.sh" <<EOF
#!/bin/bash
#SBATCH --job-name=rq-sweep-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=1024M
#SBATCH --time=00:10:00
set -euo pipefail
exec $(printf '%q' "$bin") merge $(printf '%q' "$work/sweep-shards")/sweep.shard-*-of-$shards.csv --out $(printf '%q' "$work/sweep-merged/sweep.csv")
EOF
cat "$work/sweep-job/array.sh" "$work/sweep-job/merge.sh"
sarray=$(sbatch --parsable --output="$work/sweep-job/logs/%x-%A_%a.out" "$work/sweep-job/array.sh")
sarray=${sarray%%;*}
smerge=$(sbatch --parsable --dependency="afterok:$sarray" --kill-on-invalid-dep=yes \
    --output="$work/sweep-job/logs/%x-%j.out" "$work/sweep-job/merge.sh")
smerge=${smerge%%;*}
echo "$sarray $smerge" >> "$work/jobs"
wait_jobs "$sarray,$smerge"
for log in "$work"/sweep-job/logs/*; do echo "--- $log"; cat "$log"; done
cmp "$work/sweep-local/sweep.csv" "$work/sweep-merged/sweep.csv" \
    || fail "the merged sweep differs from the unsharded one"
echo "sweep.csv: merged = unsharded, byte for byte ($(wc -l < "$work/sweep-local/sweep.csv") lines, $(wc -c < "$work/sweep-local/sweep.csv") bytes)"

say "PASS: studies ($studies) and sweep, sharded on SLURM, equal the unsharded runs byte for byte"
