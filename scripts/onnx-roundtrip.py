#!/usr/bin/env python3
"""ONNX Runtime on inftop's export: do ORT's predictions on the 10 000 Fashion-MNIST test images
equal inftop's? For each model (mlp, cnn): train it for --epochs with `inftop train`, export it
with `inftop export --onnx … --predictions …` (inftop's own predicted class per test image),
run the .onnx file in ONNX Runtime on the same images (x/255 in float32, as inftop and the peers
preprocess) and count the images where the two predictions agree.

Usage: /tmp/inftop-peers-venv/bin/python scripts/onnx-roundtrip.py [--inftop .build/release/inftop]
       [--models mlp,cnn] [--epochs 1] [--threads 2] [--out /tmp/onnx-roundtrip]
Prints one line per model and exits 1 when any prediction differs.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_test_set  # noqa: E402




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inftop", default=".build/release/inftop")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--epochs", default="1")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--out", default="/tmp/onnx-roundtrip")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    images, labels = fmnist_test_set.load()
    failed = False
    for model in a.models.split(","):
        ckpt = os.path.join(a.out, model + ".safetensors")
        onnx_path = os.path.join(a.out, model + ".onnx")
        ours = os.path.join(a.out, model + ".inftop-predictions.txt")
        subprocess.run([a.inftop, "train", "--model", model, "--epochs", a.epochs, "--threads", a.threads,
                        "--checkpoint", ckpt], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([a.inftop, "export", "--onnx", onnx_path, "--model", model, "--weights", ckpt,
                        "--predictions", ours], check=True)
        sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        x = images.reshape(len(images), 784) if model == "mlp" else images.reshape(len(images), 1, 28, 28)
        logits = np.concatenate([sess.run(None, {"input": x[i:i + 500]})[0] for i in range(0, len(x), 500)])
        theirs = logits.argmax(axis=1)
        mine = np.loadtxt(ours, dtype=np.int64)
        agree = int((theirs == mine).sum())
        print(f"{model}: {len(x)} test images, ORT and inftop agree on {agree}, differ on {len(x) - agree}; "
              f"test accuracy ORT {(theirs == labels).mean():.4f} ({int((theirs == labels).sum())}), "
              f"inftop {(mine == labels).mean():.4f} ({int((mine == labels).sum())}); onnxruntime {ort.__version__}")
        failed |= agree != len(x)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
