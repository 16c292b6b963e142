#!/usr/bin/env python3
"""PyTorch trains the CNN for one epoch from inftop's starting point: the weights `inftop train
--seed S` starts from and the order in which it visits the training images, both rebuilt here
from inftop's own generator (xoshiro256** seeded by SplitMix64, Sources/InftopEngine/Tensor/
Random.swift; Conv2d/Linear init, BatchLoader.makeOrder). Model, loss and loop are the peers'
own (../shared/peers/fmnist_common.py: cnn(2), train()), recipe SGD lr 0.05 momentum 0.9,
batch 64, x/255, 2 threads.

So a one-epoch accuracy can be compared with inftop's at the same start: what is left between
them is rounding, not the draw of weights and order.

  --verify FILE   first check the rebuilt weights bit for bit against a safetensors file that
                  inftop wrote before any change to the weights (see scripts/cnn-same-start.sh);
  --verify-loss L and the rebuilt order: train on the first 1280 images (20 steps) and compare
                  the mean training loss with L, inftop's on the same images (`--train-limit 1280`).
Prints one JSON line per seed.
Usage: /tmp/inftop-peers-venv/bin/python scripts/cnn_same_start.py [--verify FILE --verify-loss L] SEED...
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SeededRandom:
    """inftop's SeededRandom: xoshiro256** with its state filled by SplitMix64."""

    def __init__(self, seed):
        sm = seed & M64
        state = []
        for _ in range(4):
            sm = (sm + GOLDEN) & M64
            z = sm
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self):
        s0, s1, s2, s3 = self.s
        x = (s1 * 5) & M64
        result = ((((x << 7) | (x >> 57)) & M64) * 9) & M64
        t = (s1 << 17) & M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & M64
        self.s = [s0, s1, s2, s3]
        return result

    def fill_uniform(self, n, lo, hi):
        """float32 lo + (hi − lo) · k·2⁻²⁴, k the top 24 bits of each draw, in storage order."""
        k = np.array([self.next() >> 40 for _ in range(n)], dtype=np.float32)
        u = k * np.float32(1.0 / 16_777_216.0)
        return (np.float32(lo) + (np.float32(hi) - np.float32(lo)) * u).astype(np.float32)

    def next_int_below(self, bound):
        """Lemire's multiply-and-reject, as SeededRandom.nextInt(below:)."""
        m = self.next() * bound
        if (m & M64) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (m & M64) < threshold:
                m = self.next() * bound
        return m >> 64

    def shuffle(self, a):
        i = len(a) - 1
        while i > 0:
            j = self.next_int_below(i + 1)
            a[i], a[j] = a[j], a[i]
            i -= 1


# ModelZoo.make("cnn", seed): layer i draws from seed + i (conv1 0, conv2 3, fc1 7, fc2 9),
# weights then bias, U(−1/√fanIn, 1/√fanIn) with the bound computed in float32.
LAYERS = [("conv1", 0, (32, 1, 5, 5)), ("conv2", 3, (64, 32, 5, 5)), ("fc1", 7, (128, 3136)), ("fc2", 9, (10, 128))]


def inftop_init(seed):
    out = {}
    for name, offset, shape in LAYERS:
        rng = SeededRandom((seed + offset) & M64)
        fan_in = int(np.prod(shape[1:]))
        bound = np.float32(1) / np.sqrt(np.float32(fan_in))
        n = int(np.prod(shape))
        out[name + ".weight"] = rng.fill_uniform(n, -bound, bound).reshape(shape)
        out[name + ".bias"] = rng.fill_uniform(shape[0], -bound, bound)
    return out


def inftop_order(seed, epoch, n):
    """BatchLoader.makeOrder: Fisher–Yates of 0..<n seeded by seed &+ epoch &* golden."""
    order = list(range(n))
    SeededRandom((seed + epoch * GOLDEN) & M64).shuffle(order)
    return order


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{path}: {name} is {info['dtype']}, expected F32"
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + size + a:8 + size + b], dtype=np.float32).reshape(info["shape"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", help="safetensors of inftop's untouched starting weights (the first seed's)")
    ap.add_argument("--verify-loss", type=float, help="inftop's train_loss on the first 1280 images (the first seed)")
    ap.add_argument("seeds", nargs="+", type=int)
    args = ap.parse_args()
    peers = os.environ.get("PEERS_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/peers"))
    sys.path.insert(0, peers)
    import common
    common.set_thread_env(2)
    import torch
    import fmnist_common as fc
    torch.set_num_threads(2)
    if args.verify:
        theirs, ours = read_safetensors(args.verify), inftop_init(args.seeds[0])
        for name, a in ours.items():
            b = theirs[name]
            same = a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))
            if not same:
                sys.exit(f"cnn_same_start: {name} differs from {args.verify}: the rebuilt init is not inftop's")
        print(json.dumps({"verified": args.verify, "seed": args.seeds[0], "tensors": len(ours)}), flush=True)
    Xtr, ytr, Xte, yte = [torch.from_numpy(a) for a in fc.load(flat=False)]
    names = [layer + part for layer, _, _ in LAYERS for part in (".weight", ".bias")]   # m.parameters() order

    def train_from_inftop_start(seed, X, y):
        m = fc.cnn(2)
        init = inftop_init(seed)
        with torch.no_grad():
            for p, name in zip(m.parameters(), names):
                p.copy_(torch.from_numpy(init[name].copy()))
        order = torch.tensor(inftop_order(seed, 0, len(X)), dtype=torch.int64)
        # fc.train draws its shuffle from torch.randperm; hand it inftop's order instead by
        # presenting the training set already in that order with the shuffle undone.
        opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        g = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(X), generator=g)     # what fc.train will draw for epoch 1
        inverse = torch.empty_like(perm)
        inverse[perm] = torch.arange(len(perm))
        # fc.train visits X[perm[k]]; with X' = X[order][inverse], X'[perm[k]] = X[order[k]].
        return m, fc.train(m, opt, X[order][inverse], y[order][inverse], 64, 1, seed=seed)

    if args.verify_loss is not None:
        _, r = train_from_inftop_start(args.seeds[0], Xtr[:1280], ytr[:1280])
        loss = r["epochs"][0]["train_loss"]
        if abs(loss - args.verify_loss) > 5e-4:
            sys.exit(f"cnn_same_start: 20 steps on 1280 images give training loss {loss}, inftop's was "
                     f"{args.verify_loss}: the rebuilt order is not inftop's")
        print(json.dumps({"verified_order": True, "seed": args.seeds[0], "train_loss_1280": loss,
                          "inftop_train_loss_1280": args.verify_loss}), flush=True)
    for seed in args.seeds:
        m, r = train_from_inftop_start(seed, Xtr, ytr)
        print(json.dumps({"seed": seed, "start": "inftop", "test_accuracy": fc.evaluate(m, Xte, yte),
                          "train_loss": r["epochs"][0]["train_loss"],
                          "samples_per_sec": r["epochs"][0]["samples_per_s"]}), flush=True)


if __name__ == "__main__":
    main()
