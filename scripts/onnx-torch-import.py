#!/usr/bin/env python3
"""A model exported by PyTorch, profiled by inftop, beside ONNX Runtime on the very same file.

For each model (mlp, cnn): the peers' PyTorch module (../shared/peers/fmnist_common.py: mlp(),
cnn()) gets the weights of an inftop checkpoint (scripts/onnx-roundtrip.py writes them; the
layouts are PyTorch's), is exported with torch.onnx.export (dynamo, opset 17, dynamic batch), and
then `inftop bench --model FILE.onnx --json` imports and times it (test accuracy included) while
ONNX Runtime runs the same file on the same images with the same thread count.

Usage: /tmp/inftop-peers-venv/bin/python scripts/onnx-torch-import.py [--inftop .build/release/inftop]
       [--dir /tmp/onnx-roundtrip] [--models mlp,cnn] [--batch 1,64] [--threads 1]
"""
import argparse
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import onnxruntime as ort
import torch
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("PEERS_DIR", os.path.join(HERE, "../../shared/peers")))
import fmnist_common as fc  # noqa: E402
sys.path.insert(0, HERE)
import fmnist_test_set  # noqa: E402
import peer_timing  # noqa: E402

LAYERS = {"mlp": ["fc1", "fc2", "fc3"], "cnn": ["conv1", "conv2", "fc1", "fc2"]}



def ort_p50_ms(sess, x, batch, min_runs=30, min_s=1.0):
    name = sess.get_inputs()[0].name

    def call(i):
        j = 0 if i < 0 else (i * batch) % (len(x) - batch)
        sess.run(None, {name: x[j:j + batch]})
    return peer_timing.median_ms(call, warmup=5, min_runs=min_runs, min_s=min_s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inftop", default=".build/release/inftop")
    ap.add_argument("--dir", default="/tmp/onnx-roundtrip")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--batch", default="1,64")
    ap.add_argument("--threads", default="1")
    a = ap.parse_args()
    images, labels = fmnist_test_set.load()
    for name in a.models.split(","):
        weights = load_file(os.path.join(a.dir, name + ".safetensors"))
        module = fc.mlp() if name == "mlp" else fc.cnn(2)
        params = [w for layer in LAYERS[name] for w in (layer + ".weight", layer + ".bias")]
        with torch.no_grad():
            for p, key in zip(module.parameters(), params):
                p.copy_(torch.from_numpy(weights[key]))
        module.eval()
        x = images.reshape(len(images), 784) if name == "mlp" else images.reshape(len(images), 1, 28, 28)
        path = os.path.join(a.dir, name + ".torch.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (torch.from_numpy(x[:2]),), path, input_names=["x"], output_names=["logits"],
                              dynamic_shapes={"input": {0: torch.export.Dim("batch")}}, dynamo=True, opset_version=17,
                              external_data=False, verbose=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(a.threads)
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        logits = np.concatenate([sess.run(None, {"x": x[i:i + 500]})[0] for i in range(0, len(x), 500)])
        ort_acc = float((logits.argmax(axis=1) == labels).mean())
        out = subprocess.run([a.inftop, "bench", "--model", path, "--batch", a.batch, "--threads", a.threads, "--json"],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            p50, runs = ort_p50_ms(sess, x, r["batch"])
            print(f"{name} (torch.onnx.export) batch {r['batch']:3d}, {a.threads} thread(s): inftop p50 {r['p50_ms']:.4f} ms, "
                  f"test accuracy {r['test_accuracy']:.4f} | ORT {ort.__version__} p50 {p50:.4f} ms ({runs} runs), "
                  f"test accuracy {ort_acc:.4f} | inftop/ORT {r['p50_ms'] / p50:.2f}")


if __name__ == "__main__":
    main()
