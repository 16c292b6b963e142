#!/usr/bin/env bash
# Test accuracy of the CNN after one epoch over several seeds, PyTorch (the peers' own model and
# training loop from ../shared/peers/fmnist_common.py, seed s for torch.manual_seed and the
# shuffle) and inftop (--seed s) one after the other, same recipe: SGD lr 0.05 momentum 0.9,
# batch 64, x/255, 2 threads. One accuracy after one epoch is a single draw from a spread of
# about ±1 point; this shows the spread of both. Output: bench-results/<date>-cnn-seeds.jsonl.
# Usage: bash scripts/cnn-seeds.sh [seeds, default "0 1 2 3 4"] [inftop backend, default simd]
set -euo pipefail
cd "$(dirname "$0")/.."
peers="${PEERS_DIR:-$(cd .. && pwd)/shared/peers}"
py="${PEERS_VENV:-/tmp/inftop-peers-venv}/bin/python"
[ -x "$py" ] || { echo "cnn-seeds: no peer venv at $py; run: bash $peers/setup.sh" >&2; exit 2; }
seeds="${1:-0 1 2 3 4}"
backend="${2:-simd}"
swift build -c release --product inftop >&2
mkdir -p bench-results
f="bench-results/$(date -u +%Y-%m-%dT%H%MZ)-cnn-seeds.jsonl"
for s in $seeds; do
  PEERS="$peers" SEED="$s" "$py" - <<'EOF' 2>/dev/null | sed -u 's/^/peer /' | tee -a "$f"
import json, os, sys
sys.path.insert(0, os.environ["PEERS"])
import common
common.set_thread_env(2)
import torch
import fmnist_common as fc
torch.set_num_threads(2)
seed = int(os.environ["SEED"])
Xtr, ytr, Xte, yte = [torch.from_numpy(a) for a in fc.load(flat=False)]
torch.manual_seed(seed)
m = fc.cnn(2)
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
r = fc.train(m, opt, Xtr, ytr, 64, 1, seed=seed)
print(json.dumps({"seed": seed, "test_accuracy": fc.evaluate(m, Xte, yte),
                  "train_loss": r["epochs"][0]["train_loss"], "samples_per_sec": r["epochs"][0]["samples_per_s"]}))
EOF
  .build/release/inftop train --model cnn --batch 64 --lr 0.05 --optimizer sgd --epochs 1 --threads 2 \
    --backend "$backend" --seed "$s" --json |
    python3 -c "import json,sys; d=json.loads(sys.stdin.readlines()[0]); print(json.dumps({'seed': $s, 'test_accuracy': d['test_accuracy'], 'train_loss': d['train_loss'], 'samples_per_sec': d['samples_per_sec']}))" |
    sed -u "s/^/inftop-$backend /" | tee -a "$f"
done
