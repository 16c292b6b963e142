#!/usr/bin/env bash
# The dashboard's serving figures against `inftop bench`'s for the same configuration, one after
# the other (issue 13: within 10 %). Runs the dashboard in tmux with --record for SECONDS (default
# 15) on its default workload (mlp trained live, served to the Server scenario at 1 000/s, batch 8,
# delay 2 ms, 1 worker), reads the last record's since-start serving figures (p50 of the request
# latency, items/s), then runs `inftop bench` with the same model, scenario, rate, batch, delay
# and workers for the same time, and prints both with their ratio. Exit 1 when p50 or items/s
# differ by more than 10 %. The dashboard also trains on the other core, bench does not; with
# `paused` as the second argument the dashboard's training is paused (space) as it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
paused=${2:-}
bin=.build/release/inftop
[ -x "$bin" ] || swift build -c release --product inftop >&2
command -v tmux >/dev/null || { echo "dashboard-vs-bench: tmux is not installed (bash scripts/setup.sh installs it)" >&2; exit 2; }
record=$(mktemp /tmp/inftop-dvb-XXXXXX.jsonl)
session=inftop-dvb-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -f "$record"' EXIT
tmux new-session -d -s "$session" -x 120 -y 40 "$bin --record $record"
if [ "$paused" = paused ]; then sleep 1; tmux send-keys -t "$session" Space; fi
sleep $((seconds + 2))   # start-up, then SECONDS of serving
tmux send-keys -t "$session" q
sleep 2
python3 - "$record" "$bin" "$seconds" <<'PY'
import json, subprocess, sys
record, binary, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
last = None
for line in open(record):
    try: last = json.loads(line)
    except ValueError: pass  # a torn last line
if last is None: sys.exit("dashboard-vs-bench: the record is empty")
inf, k = last["snapshot"]["inference"], last["knobs"]
floor = inf["floor"]
dash = {"p50_ms": floor["total"]["p50Ms"], "items_per_s": floor["itemsPerSecond"]}
rate = inf["offeredPerSecond"]
cmd = [binary, "bench", "--model", inf["model"], "--scenario", floor["scenario"], "--rate", str(rate),
       "--batch", str(k["inferenceBatchSize"]), "--delay", str(floor["maxQueueDelayMs"]),
       "--workers", str(floor["workers"]), "--backend", inf["plan"]["backend"], "--duration", seconds, "--json"]
out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
row = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]
bench = {"p50_ms": row["p50_ms"], "items_per_s": row["items_per_s"]}
print("config: %s %s rate %g/s batch %d delay %g ms, %d worker(s), %s; %s s each; dashboard training %s" % (inf["model"], floor["scenario"], rate,
      k["inferenceBatchSize"], floor["maxQueueDelayMs"], floor["workers"], inf["plan"]["backend"], seconds,
      "paused" if k.get("trainingPaused") else "running"))
print("bench:  " + " ".join(cmd[1:]))
worst = 0.0
for key in ("p50_ms", "items_per_s"):
    r = dash[key] / bench[key]
    worst = max(worst, abs(r - 1))
    print("%-12s dashboard %10.3f  bench %10.3f  dashboard/bench %.3f" % (key, dash[key], bench[key], r))
print(json.dumps({"dashboard": dash, "bench": bench, "max_rel_diff": round(worst, 4)}))
sys.exit(0 if worst <= 0.10 else 1)
PY
