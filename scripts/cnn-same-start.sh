#!/usr/bin/env bash
# The CNN's one-epoch test accuracy from the same start on both sides: for each seed, inftop
# trains (`inftop train --seed S`, simd or blas backend), then PyTorch trains the peers' own CNN
# with the peers' own loop from inftop's starting weights and inftop's order of the training
# images (scripts/cnn_same_start.py rebuilds both from inftop's generator). Same recipe: SGD lr
# 0.05 momentum 0.9, batch 64, x/255, 2 threads, one epoch.
# First it checks the rebuilt weights bit for bit against weights inftop writes itself (a
# checkpoint after one step at lr 1.4e-45, where every update underflows to zero), and the
# rebuilt order by 20 steps on 1280 images, whose mean training loss must match inftop's.
# Output: bench-results/<date>-cnn-same-start.jsonl.
# Usage: bash scripts/cnn-same-start.sh [seeds, default "0 1 2 3 4"] [inftop backend, default simd]
set -euo pipefail
cd "$(dirname "$0")/.."
name=cnn-same-start; source scripts/peers-env.sh
seeds="${1:-0 1 2 3 4}"
backend="${2:-simd}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for s in $seeds; do
  "$bin" train --model cnn --epochs 1 --batch 64 --lr 1.4e-45 --train-limit 64 --test-limit 100 \
    --seed "$s" --checkpoint "$tmp/start.safetensors" --json >/dev/null
  loss1280="$("$bin" train --model cnn --epochs 1 --batch 64 --lr 0.05 --train-limit 1280 --test-limit 100 \
    --threads 2 --backend "$backend" --seed "$s" --json | python3 -c "import json,sys; print(json.loads(sys.stdin.readlines()[0])['train_loss'])")"
  PEERS_DIR="$peers" "$py" scripts/cnn_same_start.py --verify "$tmp/start.safetensors" --verify-loss "$loss1280" "$s" |
    sed -u 's/^/pytorch-from-inftop-start /' | tee -a "$f"
  "$bin" train --model cnn --batch 64 --lr 0.05 --optimizer sgd --epochs 1 --threads 2 \
    --backend "$backend" --seed "$s" --json |
    inftop_epoch1 "$s" |
    sed -u "s/^/inftop-$backend /" | tee -a "$f"
done
