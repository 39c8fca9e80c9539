#!/usr/bin/python3
"""PyTorch twin of the project's noisy-sprite classifier p(y | x_t, t) (src/lib/guidance/noisyClassifier.ts).

The same network with the same parameter names (conv1, timeembed1.l1, ..., hidden, logits):
  x_t [N,16,16,3] NHWC (permuted to NCHW inside), t / T [N]
  conv1 3x3 3->32  + timeembed1(t/T), GELU, AvgPool 2   -> [N, 32, 8, 8]
  conv2 3x3 32->64 + timeembed2(t/T), GELU, AvgPool 2   -> [N, 64, 4, 4]
  conv3 3x3 64->64 + timeembed3(t/T), GELU              -> [N, 64, 4, 4]
  permute to NHWC, flatten 1024 (so `hidden` has the TensorFlow.js side's weights), Linear 128,
  GELU, Linear 5.
197,861 trainable parameters.

Usage:
  /usr/bin/python3 bench/noisy_classifier_torch.py params
  /usr/bin/python3 bench/noisy_classifier_torch.py dump --out DIR      # weights.json + io.json for the parity test
  /usr/bin/python3 bench/noisy_classifier_torch.py bench --mode guide --batch 32 --reps 20 --warmup 3 --threads 2

bench --mode guide times one classifier-guided step's classifier work at batch 32: a forward and
the input gradient grad_x sum_i log p(y_i | x_t, t); it prints one JSON line
  {"side": "torch", "mode": "guide", "batch": 32, "threads": 2, "torch": "...", "params": 197861,
   "times_ms": [...], "median_ms": ...}
Runs on Debian's python3-torch 1.13 (apt-get install -y python3-torch; /usr/bin/python3, as the parity tests run it)
and on PyPI's torch 2.15 (.venv-torch/bin/python, as npm run bench runs it: scripts/bench-torch-venv.sh).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from twin_tools import count_params, print_bench, time_steps

EXPECTED_PARAMS = 197861
T_STEPS = 500


class EmbedFC(nn.Module):
    """The ContextUnet's EmbedFC: Linear(din, dout) GELU Linear(dout, dout)."""

    def __init__(self, din, dout):
        super().__init__()
        self.din = din
        self.l1 = nn.Linear(din, dout)
        self.l2 = nn.Linear(dout, dout)

    def forward(self, x):
        return self.l2(F.gelu(self.l1(x.view(-1, self.din))))


class NoisySpriteClassifier(nn.Module):
    def __init__(self, cin=3, channels=(32, 64, 64), hidden=128, classes=5, h=16):
        super().__init__()
        c1, c2, c3 = channels
        self.channels = channels
        self.conv1 = nn.Conv2d(cin, c1, 3, 1, 1)
        self.timeembed1 = EmbedFC(1, c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, 1, 1)
        self.timeembed2 = EmbedFC(1, c2)
        self.conv3 = nn.Conv2d(c2, c3, 3, 1, 1)
        self.timeembed3 = EmbedFC(1, c3)
        self.hidden = nn.Linear((h // 4) * (h // 4) * c3, hidden)
        self.logits = nn.Linear(hidden, classes)

    def forward(self, x_nhwc, t_fraction):
        """x_nhwc [N, 16, 16, 3], t_fraction [N] = t / T -> logits [N, classes]."""
        n = x_nhwc.shape[0]
        t = t_fraction.reshape(n, 1).float()
        h = x_nhwc.permute(0, 3, 1, 2)
        for k, pool in ((1, True), (2, True), (3, False)):
            conv, embed = getattr(self, f'conv{k}'), getattr(self, f'timeembed{k}')
            h = F.gelu(conv(h) + embed(t).view(n, -1, 1, 1))
            if pool:
                h = F.avg_pool2d(h, 2)
        flat = h.permute(0, 2, 3, 1).reshape(n, -1)  # NHWC order, as TensorFlow.js flattens
        return self.logits(F.gelu(self.hidden(flat)))


def params_cmd(args):
    n = count_params(NoisySpriteClassifier())
    print(json.dumps({'params': n, 'expected': EXPECTED_PARAMS, 'ok': n == EXPECTED_PARAMS}))
    if n != EXPECTED_PARAMS:
        sys.exit('parameter count %d != expected %d' % (n, EXPECTED_PARAMS))


def dump(args):
    """Weights (after a few Adam steps, so they are not just the init) and, for a fixed batch:
    logits, the input gradient of sum_i log_softmax(logits)[i, y_i], and the parameter gradients
    of the mean cross-entropy. Tensors are in PyTorch's layouts, flattened row-major; x and its
    gradient are NHWC."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(3)
    model = NoisySpriteClassifier()
    gen = torch.Generator().manual_seed(3)
    n = 8
    x = torch.randn(n, 16, 16, 3, generator=gen)
    t = torch.randint(0, T_STEPS + 1, (n,), generator=gen).float() / T_STEPS
    y = torch.randint(0, 5, (n,), generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x, t), y).backward()
        opt.step()
    os.makedirs(args.out, exist_ok=True)
    weights = {k: {'shape': list(v.shape), 'data': v.detach().reshape(-1).tolist()} for k, v in model.state_dict().items()}
    with open(os.path.join(args.out, 'weights.json'), 'w') as f:
        json.dump(weights, f)
    xg = x.clone().requires_grad_(True)
    logits = model(xg, t)
    picked = torch.log_softmax(logits, 1)[torch.arange(n), y].sum()
    (input_grad,) = torch.autograd.grad(picked, xg)
    model.zero_grad()
    loss = F.cross_entropy(model(x, t), y)
    loss.backward()
    io = {'x': x.reshape(-1).tolist(), 't': t.tolist(), 'y': y.tolist(), 'logits': logits.detach().reshape(-1).tolist(),
          'input_grad': input_grad.reshape(-1).tolist(), 'loss': loss.item(),
          'grads': {k: p.grad.reshape(-1).tolist() for k, p in model.named_parameters()},
          'params': count_params(model)}
    with open(os.path.join(args.out, 'io.json'), 'w') as f:
        json.dump(io, f)
    print(json.dumps({'dumped': len(weights), 'params': io['params'], 'loss': io['loss'], 'out': args.out}))


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = NoisySpriteClassifier().eval()
    B = args.batch
    x = torch.randn(B, 16, 16, 3, generator=gen)
    y = torch.arange(B) % 5  # labels 0..4 in turn, as bench/worker.ts: the cost does not depend on which
    t = torch.full((B,), 0.5)

    def step():
        xg = x.detach().requires_grad_(True)
        picked = torch.log_softmax(model(xg, t), 1)[torch.arange(B), y].sum()
        (grad,) = torch.autograd.grad(picked, xg)
        return float(grad[0, 0, 0, 0])

    times = time_steps(step, args.warmup, args.reps)
    print_bench(args.mode, B, model, times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], epilog=__doc__[__doc__.index('Usage:'):],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('cmd', choices=['params', 'dump', 'bench'])
    ap.add_argument('--mode', default='guide', choices=['guide'], help='bench: guide = forward + input gradient')
    ap.add_argument('--batch', type=int, default=32, help='bench batch size')
    ap.add_argument('--reps', type=int, default=20, help='timed repetitions')
    ap.add_argument('--warmup', type=int, default=3, help='untimed repetitions first')
    ap.add_argument('--threads', type=int, default=2, help='torch intra-op threads')
    ap.add_argument('--out', default='./noisy-classifier-parity', help='dump: output folder')
    args = ap.parse_args()
    {'params': params_cmd, 'dump': dump, 'bench': bench}[args.cmd](args)


if __name__ == '__main__':
    main()
