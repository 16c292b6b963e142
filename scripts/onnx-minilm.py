#!/usr/bin/env python3
"""The peers' ONNX export of all-MiniLM-L6-v2 (../shared/peers/minilm_common.py: minilm_fp32.onnx and
its .data, torch.onnx.export dynamo, opset 18, pooling and normalisation inside) imported by inftop:

1. cosine of `inftop embed --model minilm_fp32.onnx --json` to sentence-transformers (the same
   model folder, SentenceTransformer.encode, fp32) on every reference sentence
   (Tests/InftopEngineTests/Fixtures/minilm_reference.json);
2. latency at batch 8 x 128 tokens, 2 threads, side by side on the same file: `inftop bench --model
   FILE.onnx --batch 8 --seq 128 --threads 2 --json` and ONNX Runtime (the peers' session options).

Usage: /tmp/inftop-peers-venv/bin/python scripts/onnx-minilm.py [--inftop .build/release/inftop] [--threads 2]
Exits 1 when a cosine is below 0.9999.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("PEERS_DIR", os.path.join(HERE, "../../shared/peers")))
import minilm_common as mc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inftop", default=".build/release/inftop")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    a = ap.parse_args()
    paths, info = mc.ensure_onnx()
    fp32 = paths["fp32"]
    with open(os.path.join(HERE, "../Tests/InftopEngineTests/Fixtures/minilm_reference.json")) as f:
        texts = [s["text"] for s in json.load(f)["sentences"]]
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(mc.model_dir(), device="cpu").encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    out = subprocess.run([a.inftop, "embed", "--model", fp32, "--tokenizer", mc.model_dir(), "--json", "--threads", a.threads] + texts,
                         check=True, capture_output=True, text=True).stdout
    ours = np.array([json.loads(l)["embedding"] for l in out.splitlines()], dtype=np.float64)
    cos = (ours * st).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(st, axis=1)
    print(f"cosine inftop(ONNX import) vs sentence-transformers over {len(texts)} sentences: min {cos.min():.6f}, "
          f"mean {cos.mean():.6f}  ({info['exporter']})")
    bench = subprocess.run([a.inftop, "bench", "--model", fp32, "--tokenizer", mc.model_dir(), "--batch", str(a.batch), "--seq", str(a.seq),
                            "--threads", a.threads, "--json"], check=True, capture_output=True, text=True).stdout
    r = json.loads(bench.splitlines()[-1])
    sess = mc.ort_session(fp32, int(a.threads))
    ids, am, tt = mc.bench_inputs(a.batch, a.seq)
    feed = {"input_ids": ids, "attention_mask": am, "token_type_ids": tt}
    for _ in range(3):
        sess.run(None, feed)
    times, start = [], time.perf_counter()
    while len(times) < 10 or time.perf_counter() - start < 3:
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    ort_p50 = float(np.median(times))
    import onnxruntime as ort
    print(f"batch {a.batch} x {a.seq}, {a.threads} threads, same file: inftop p50 {r['p50_ms']:.1f} ms ({r['runs']} runs) | "
          f"ORT {ort.__version__} p50 {ort_p50:.1f} ms ({len(times)} runs) | inftop/ORT {r['p50_ms'] / ort_p50:.2f}")
    sys.exit(0 if cos.min() >= 0.9999 else 1)


if __name__ == "__main__":
    main()
