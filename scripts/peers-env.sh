# Sourced by the scripts that run a peer beside inftop (bench-peers.sh, cnn-seeds.sh,
# cnn-same-start.sh), from the repo root: finds the peers and their venv (or stops with one line
# saying how to make it), builds the release binary and opens bench-results/<date>-<name>.jsonl.
# Sets: peers, py, bin, out (the results folder), stamp, f (this run's file); defines
# inftop_epoch1 SEED, which reads `inftop train --json` on stdin and prints its first epoch's
# test_accuracy, train_loss, samples_per_sec (and evaluations, if listed) as one JSON line.
# Usage: name=<what>; source scripts/peers-env.sh
peers="${PEERS_DIR:-$(cd .. && pwd)/shared/peers}"
py="${PEERS_VENV:-/tmp/inftop-peers-venv}/bin/python"
[ -x "$py" ] || { echo "$name: no peer venv at $py; run: bash $peers/setup.sh" >&2; exit 2; }
swift build -c release --product inftop >&2
bin=.build/release/inftop
out=bench-results; mkdir -p "$out"
stamp=$(date -u +%Y-%m-%dT%H%MZ)
f="$out/$stamp-$name.jsonl"
inftop_epoch1() {
  python3 -c "
import json, sys
d = json.loads(sys.stdin.readlines()[0])
out = {'seed': $1, 'test_accuracy': d['test_accuracy'], 'train_loss': d['train_loss'], 'samples_per_sec': d['samples_per_sec']}
if 'evaluations' in d:
    out['evaluations'] = [[e['epoch_fraction'], e['test_accuracy']] for e in d['evaluations']]
print(json.dumps(out))"
}
