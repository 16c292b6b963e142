#!/usr/bin/env python3
"""The peers' ONNX exports of all-MiniLM-L6-v2 (../shared/peers/minilm_common.py: minilm_fp32.onnx and
its .data, torch.onnx.export dynamo, opset 18, pooling and normalisation inside; with --int8 also
minilm_int8_dynamic.onnx and minilm_int8_dynamic_per_channel.onnx, onnxruntime.quantization.quantize_dynamic
of it, QInt8 weights per tensor / per column) imported by inftop, one file after the other:

1. cosine of `inftop embed --model FILE.onnx --json` to sentence-transformers (the same model folder,
   SentenceTransformer.encode, fp32) on every reference sentence
   (Tests/InftopEngineTests/Fixtures/minilm_reference.json); for an int8 file also to ONNX Runtime on
   the same file (each sentence alone, inftop's token ids), ORT's own cosine to sentence-transformers,
   and inftop's with `--precision fp32` (the file's dequantized weights);
2. latency at batch 8 x 128 tokens, 2 threads, side by side on the same file: `inftop bench --model
   FILE.onnx --batch 8 --seq 128 --threads 2 --json` (an int8 file benches at int8, its default) and
   ONNX Runtime (the peers' session options).

Usage: /tmp/inftop-peers-venv/bin/python scripts/onnx-minilm.py [--inftop .build/release/inftop] [--threads 2] [--int8]
Exits 1 when the fp32 file's cosine is below 0.9999, or an int8 file's worst cosine to sentence-transformers
is more than 0.005 below ORT's on the same file (the file's own weight rounding bounds both).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("PEERS_DIR", os.path.join(HERE, "../../shared/peers")))
import minilm_common as mc  # noqa: E402
sys.path.insert(0, HERE)
import peer_timing  # noqa: E402


def cosines(a, b):
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def embed(a, path, texts, precision=None):
    cmd = [a.inftop, "embed", "--model", path, "--tokenizer", mc.model_dir(), "--json", "--threads", a.threads]
    out = subprocess.run(cmd + (["--precision", precision] if precision else []) + texts, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines()]
    return np.array([r["embedding"] for r in rows], dtype=np.float64), [r["token_ids"] for r in rows]


def ort_p50(sess, feed):
    return peer_timing.median_ms(lambda i: sess.run(None, feed), warmup=3, min_runs=10, min_s=3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inftop", default=".build/release/inftop")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--int8", action="store_true", help="also the two dynamic-int8 files")
    a = ap.parse_args()
    paths, info = mc.ensure_onnx()
    with open(os.path.join(HERE, "../Tests/InftopEngineTests/Fixtures/minilm_reference.json")) as f:
        texts = [s["text"] for s in json.load(f)["sentences"]]
    from sentence_transformers import SentenceTransformer
    import onnxruntime as ort
    st = SentenceTransformer(mc.model_dir(), device="cpu").encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    ok = True
    for kind in ["fp32"] + (["int8", "int8_pc"] if a.int8 else []):
        path = paths[kind]
        print(f"== {os.path.basename(path)}")
        ours, ids = embed(a, path, texts)
        cos = cosines(ours, st)
        print(f"cosine inftop(ONNX import) vs sentence-transformers over {len(texts)} sentences: min {cos.min():.6f}, "
              f"mean {cos.mean():.6f}  ({info['exporter'] if kind == 'fp32' else info['quantize_' + kind]})")
        ok = ok and (kind != "fp32" or cos.min() >= 0.9999)
        sess = mc.ort_session(path, int(a.threads))
        if kind != "fp32":
            ref = np.array([sess.run(None, {"input_ids": np.array([t], np.int64), "attention_mask": np.ones((1, len(t)), np.int64),
                                             "token_type_ids": np.zeros((1, len(t)), np.int64)})[0][0] for t in ids], dtype=np.float64)
            c_ort, c_ort_st = cosines(ours, ref), cosines(ref, st)
            ok = ok and cos.min() >= c_ort_st.min() - 0.005
            fp, _ = embed(a, path, texts, "fp32")
            c_fp = cosines(fp, st)
            print(f"cosine inftop vs ORT {ort.__version__} on this file: min {c_ort.min():.6f}, mean {c_ort.mean():.6f} | "
                  f"ORT vs sentence-transformers: min {c_ort_st.min():.6f}, mean {c_ort_st.mean():.6f} | "
                  f"inftop --precision fp32 (dequantized weights) vs sentence-transformers: min {c_fp.min():.6f}, mean {c_fp.mean():.6f}")
        bench = subprocess.run([a.inftop, "bench", "--model", path, "--tokenizer", mc.model_dir(), "--batch", str(a.batch), "--seq", str(a.seq),
                                "--threads", a.threads, "--json"], check=True, capture_output=True, text=True).stdout
        r = json.loads(bench.splitlines()[-1])
        ids_b, am, tt = mc.bench_inputs(a.batch, a.seq)
        p50, runs = ort_p50(sess, {"input_ids": ids_b, "attention_mask": am, "token_type_ids": tt})
        print(f"batch {a.batch} x {a.seq}, {a.threads} threads, same file: inftop ({r['precision']}) p50 {r['p50_ms']:.1f} ms ({r['runs']} runs) | "
              f"ORT {ort.__version__} p50 {p50:.1f} ms ({runs} runs) | inftop/ORT {r['p50_ms'] / p50:.2f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
