#!/usr/bin/env bash
# Test accuracy of the CNN after one epoch over several seeds, PyTorch (the peers' own model and
# training loop from ../shared/peers/fmnist_common.py, seed s for torch.manual_seed and the
# shuffle) and inftop (--seed s) one after the other, same recipe: SGD lr 0.05 momentum 0.9,
# batch 64, x/255, 2 threads. One accuracy after one epoch is a single draw from a spread of
# about ±1 point; this shows the spread of both. With E evaluations per epoch (third argument),
# each side also lists the test accuracy at E evenly spaced points of the epoch, which shows how
# far it moves between nearby steps. Output: bench-results/<date>-cnn-seeds.jsonl.
# Usage: bash scripts/cnn-seeds.sh [seeds, default "0 1 2 3 4"] [inftop backend, default simd] [E, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
name=cnn-seeds; source scripts/peers-env.sh
seeds="${1:-0 1 2 3 4}"
backend="${2:-simd}"
evals="${3:-1}"
for s in $seeds; do
  PEERS="$peers" SEED="$s" EVALS="$evals" "$py" - <<'EOF' 2>/dev/null | sed -u 's/^/peer /' | tee -a "$f"
import json, os, sys
sys.path.insert(0, os.environ["PEERS"])
import common
common.set_thread_env(2)
import torch
import fmnist_common as fc
torch.set_num_threads(2)
seed, evals = int(os.environ["SEED"]), int(os.environ["EVALS"])
Xtr, ytr, Xte, yte = [torch.from_numpy(a) for a in fc.load(flat=False)]
torch.manual_seed(seed)
m = fc.cnn(2)
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
r = fc.train(m, opt, Xtr, ytr, 64, 1, Xte, yte, evals_per_epoch=evals if evals > 1 else 0, seed=seed)
out = {"seed": seed, "test_accuracy": r["epochs"][0]["test_acc"],
       "train_loss": r["epochs"][0]["train_loss"], "samples_per_sec": r["epochs"][0]["samples_per_s"]}
if evals > 1:
    out["evaluations"] = [[e[0], e[2]] for e in r["evals"]]
print(json.dumps(out))
EOF
  "$bin" train --model cnn --batch 64 --lr 0.05 --optimizer sgd --epochs 1 --threads 2 \
    --backend "$backend" --seed "$s" --evals-per-epoch "$evals" --json |
    inftop_epoch1 "$s" |
    sed -u "s/^/inftop-$backend /" | tee -a "$f"
done
