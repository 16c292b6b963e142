#!/usr/bin/env python3
"""Writes torch_steps.json: a few SGD steps of the peers' own MLP and CNN (../shared/peers/
fmnist_common.py: mlp(), cnn(2)) in PyTorch, from weights and batches that inftop's test builds
the same way (no file of weights needed), so TorchStepsTests can check that inftop's layers,
loss and optimizer compute what PyTorch computes, step after step:

  parameter j (in named_parameters order), flat element i (PyTorch's layout, which inftop's is):
      float32(bound_j * sin(0.37 * i + 1.3 * j + 0.5)),  bound_j = 1 / sqrt(fan_in of its layer)
  step s, image b (batch 8), pixel p (of 784):
      float32(((s * 8 + b) * 131 + p * 29 + (p // 28) * 7) % 256) / float32(255)
  label: (s * 8 + b) * 7 % 10
  recipe: SGD lr 0.05 momentum 0.9, mean cross-entropy (the peers' recipe)

Recorded: the loss of every step, and after the last step, for every parameter, its sum, its sum
of absolute values and 9 elements spread over it (index k * (n - 1) // 8).
Usage: /tmp/inftop-peers-venv/bin/python make_torch_steps.py > torch_steps.json
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

PEERS = os.environ.get("PEERS_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "../../../../shared/peers"))
sys.path.insert(0, PEERS)
import fmnist_common as fc  # noqa: E402

STEPS, BATCH, LR, MOMENTUM = 3, 8, 0.05, 0.9


def fan_in(weight):
    """in (Linear [out, in]) or in·k·k (Conv2d [out, in, k, k])."""
    return weight.shape[1] * (weight.shape[2] * weight.shape[3] if weight.dim() == 4 else 1)


def init(model):
    params = list(model.named_parameters())
    with torch.no_grad():
        for j, (name, p) in enumerate(params):
            weight = params[j - 1][1] if name.endswith("bias") else p
            bound = 1 / math.sqrt(fan_in(weight))
            n = p.numel()
            vals = [bound * math.sin(0.37 * i + 1.3 * j + 0.5) for i in range(n)]
            p.copy_(torch.tensor(vals, dtype=torch.float64).to(torch.float32).reshape(p.shape))


def batch(step, shape):
    idx = torch.arange(BATCH, dtype=torch.int64) + step * BATCH
    p = torch.arange(784, dtype=torch.int64)
    px = (idx[:, None] * 131 + p[None, :] * 29 + (p[None, :] // 28) * 7) % 256
    x = px.to(torch.float32) / torch.tensor(255, dtype=torch.float32)
    return x.reshape((BATCH,) + shape), (idx * 7) % 10


def run(model, shape):
    torch.manual_seed(0)
    init(model)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for s in range(STEPS):
        x, y = batch(s, shape)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    params = []
    for name, p in model.named_parameters():
        flat = p.detach().reshape(-1).to(torch.float64)
        n = flat.numel()
        params.append({"shape": list(p.shape), "sum": flat.sum().item(), "abs_sum": flat.abs().sum().item(),
                       "samples": [[k * (n - 1) // 8, flat[k * (n - 1) // 8].item()] for k in range(9)]})
    return {"losses": losses, "parameters": params}


def main():
    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "steps": STEPS, "batch": BATCH, "lr": LR, "momentum": MOMENTUM,
           "mlp": run(fc.mlp(), (784,)), "cnn": run(fc.cnn(2), (1, 28, 28))}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
