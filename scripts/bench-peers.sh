#!/usr/bin/env bash
# Side-by-side runs: each peer (PyTorch / ONNX Runtime / OpenBLAS, from ../shared/peers) and inftop on
# the same work, one after the other in one run, on a quiet machine. Prints both JSON streams, each
# line prefixed with who produced it, into bench-results/<date>-<what>.jsonl (and stdout).
# Usage: bash scripts/bench-peers.sh [mlp] [cnn] [gemm] [minilm]     (default: all)
# Needs the peers' venv once: bash ../shared/peers/setup.sh (several GB; not part of the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
name=bench-peers; source scripts/peers-env.sh
what=("$@"); [ ${#what[@]} -gt 0 ] || what=(gemm mlp cnn minilm)
tag() { sed -u "s/^/$1 /"; }
for w in "${what[@]}"; do
  f="$out/$stamp-$w.jsonl"
  echo "== $w -> $f" >&2
  case "$w" in
    gemm)
      "$py" "$peers/sgemm_bench.py" --threads 1,2 --libs sysblas 2>/dev/null | tag peer | tee -a "$f"
      "$bin" bench --gemm 256x256x784,128x384x384,128x1536x384,512x512x512 --backend simd,blas --threads 1,2 --json | tag inftop | tee -a "$f" ;;
    mlp)
      "$py" "$peers/fmnist_train.py" --batches 64,256 --adam-batch 0 --threads 2 2>/dev/null | tag peer | tee -a "$f"
      "$bin" train --model mlp --batch 64 --lr 0.05 --optimizer sgd --epochs 15 --target 0.88 --threads 2 --json | tag inftop-b64 | tee -a "$f"
      "$bin" train --model mlp --batch 256 --lr 0.05 --optimizer sgd --epochs 3 --threads 2 --json | tag inftop-b256 | tee -a "$f" ;;
    cnn)
      "$py" "$peers/fmnist_cnn.py" --batch 64 --threads 2 2>/dev/null | tag peer | tee -a "$f"
      "$bin" train --model cnn --batch 64 --lr 0.05 --optimizer sgd --epochs 1 --threads 2 --backend simd --json | tag inftop-simd | tee -a "$f"
      "$bin" train --model cnn --batch 64 --lr 0.05 --optimizer sgd --epochs 1 --threads 2 --backend blas --json | tag inftop-blas | tee -a "$f" ;;
    minilm)
      "$py" "$peers/minilm_bench.py" --backend ort_fp32 --batches 1,8,32 --threads 2 2>/dev/null | tag peer-ort | tee -a "$f"
      "$py" "$peers/minilm_bench.py" --backend torch_fp32 --batches 32 --one-thread-batches "" --threads 2 2>/dev/null | tag peer-torch | tee -a "$f"
      "$bin" bench --model "${MINILM_DIR:-}" --batch 1,8,32 --seq 128 --threads 2 --json | tag inftop | tee -a "$f" ;;
    *) echo "bench-peers: unknown '$w' (gemm, mlp, cnn, minilm)" >&2; exit 2 ;;
  esac
done
