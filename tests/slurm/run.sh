#!/usr/bin/env bash
# The cluster path, on a real Slurm: starts a single-node cluster from Debian's packages (munged,
# slurmctld, slurmd) with its own config in a temporary folder, submits the synthetic-demo preset
# with scripts/slurm/submit as a 3-task array plus the merge job, and checks that the merged
# result has the unsharded run's numbers (every run's metrics, the summary with its comparisons).
# Also: a shard that fails leaves the merge cancelled, not run on what is there.
# The daemons are stopped by their PIDs when it ends. Needs root (slurmd runs jobs as their user).
# Usage: tests/slurm/run.sh [NEUROGNN-BINARY]   (default target/debug/neurognn)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=$(cd "$(dirname "${1:-target/debug/neurognn}")" && pwd)/$(basename "${1:-target/debug/neurognn}")
[ -x "$bin" ] || { echo "FAIL no binary at $bin (cargo build --bin neurognn)"; exit 1; }
for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "FAIL $tool is missing (scripts/install-tools --slurm)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "FAIL the single-node Slurm needs root (slurmd starts jobs as their user)"; exit 1; }
export PATH="/usr/sbin:$PATH"

work=$(mktemp -d /tmp/neurognn-slurm.XXXXXX)
chmod 755 "$work"
pids=()
finish() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "--- logs (kept in $work)"
    tail -n 20 "$work"/*.log "$work"/out/*.log 2>/dev/null || true
  else
    rm -rf "$work"
  fi
}
trap finish EXIT
started=$SECONDS

# munge: the key and socket live in the folder
head -c 1024 /dev/urandom > "$work/munge.key"
chmod 400 "$work/munge.key"
munged -F -f --socket="$work/munge.sock" --key-file="$work/munge.key" --pid-file="$work/munged.pid" \
  --seed-file="$work/munged.seed" --log-file="$work/munged.log" > "$work/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge.sock" ] && break; sleep 0.1; done
[ -S "$work/munge.sock" ] || { echo "FAIL munged did not start"; exit 1; }

# two free ports for slurmctld and slurmd
read -r ctld_port slurmd_port < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
mkdir -p "$work/state" "$work/spool" "$work/out"
cat > "$work/slurm.conf" <<CONF
ClusterName=neurognn-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" > "$work/slurmctld.out.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/slurmd.out.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.2; done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] || { echo "FAIL the Slurm node did not come up: $(sinfo 2>&1)"; exit 1; }
echo "  single-node Slurm $(sinfo -V | cut -d' ' -f2) up in $((SECONDS - started)) s"

# waits for job $1 to end; prints its state
state_of() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2; }
wait_job() {
  local state
  for _ in $(seq 1200); do
    state=$(state_of "$1")
    case "$state" in PENDING|RUNNING|CONFIGURING|COMPLETING|"") sleep 0.5 ;; *) echo "$state"; return ;; esac
  done
  echo TIMEOUT
}

args=(--preset synthetic-demo --steps 60)
submitted=$SECONDS
NEUROGNN=$bin scripts/slurm/submit "$work/out" 3 -- "${args[@]}"
read -r array merge < "$work/out/jobs"
state=$(wait_job "$merge")
[ "$state" = COMPLETED ] || { echo "FAIL the merge job ended $state"; exit 1; }
echo "  3 shards and the merge: $((SECONDS - submitted)) s from submit to merged result"
for k in 1 2 3; do [ -s "$work/out/part-$k.json" ] || { echo "FAIL shard $k wrote no part"; exit 1; }; done

"$bin" run "${args[@]}" --jobs 1 --json "$work/whole.json" > "$work/whole.log"
python3 - "$work/whole.json" "$work/out/result.json" "$work/out/summary.csv" <<'PY'
import json, sys
whole, merged = (json.load(open(p)) for p in sys.argv[1:3])
key = lambda r: (r["index"], r["model"], r["task"], r["protocol"], r["fold"], r["seed"])
runs = lambda res: [(key(r), r["metrics"]) for r in res["runs"]]
assert len(whole["runs"]) == 9, len(whole["runs"])
assert runs(whole) == runs(merged), "the merged runs differ from the unsharded run's"
assert whole["summary"] == merged["summary"], "the merged summary differs"
assert whole["reference_graphs"] == merged["reference_graphs"], "the merged reference graphs differ"
assert "part" not in merged
assert ",GCN,mse," in open(sys.argv[3]).read()
gcn = next(r for r in merged["summary"] if r["model"] == "GCN" and r["metric"] == "mse")
print(f"  merged = unsharded: 9 runs, summary equal (GCN mse {gcn['mean']:.4f} ± {gcn['sd']:.4f}, n {gcn['n']})")
PY

# a shard that fails: the merge never runs on the others' parts
NEUROGNN=$bin scripts/slurm/submit "$work/bad" 2 -- --preset no-such-preset > /dev/null
read -r array merge < "$work/bad/jobs"
state=$(wait_job "$merge")
[ "$state" = CANCELLED ] || { echo "FAIL after failed shards the merge job ended $state (expected CANCELLED)"; exit 1; }
[ ! -e "$work/bad/result.json" ] || { echo "FAIL a result was merged from failed shards"; exit 1; }
grep -q "no preset 'no-such-preset'" "$work/bad/shard-1.log" || { echo "FAIL the shard's log does not say why it failed"; exit 1; }
echo "  failed shards: the merge job was cancelled, the shard log says why"
echo "ok   slurm: synthetic-demo as a 3-task array plus merge equals the unsharded run ($((SECONDS - started)) s)"
