#!/usr/bin/python3
"""PyTorch twin of the project's ARDM transformer (src/lib/ardm/transformer.ts), for the parity
test and benches: an order-agnostic Autoregressive Diffusion Model's network (Hoogeboom et al.,
ICLR 2022) over an image's H x W positions, built from the same config keys.

Variables: an H x W x C image of K-valued channels is D = H W C variables, k = position * C + channel
(NHWC flattened). A variable not given (mask 0) enters as its channel's masked token K, so the
network never sees its value. Position l's input is sum_c E[c (K + 1) + token] + P[l]; then pre-norm
nn.TransformerEncoderLayer blocks (GELU MLP, no dropout, no causal mask), a final LayerNorm and a
linear head to C K logits per position, read as [N, D, K].

State_dict keys (the project's): position_embedding, value_embedding.weight,
blocks.{i}.self_attn.{in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias},
blocks.{i}.{linear1, linear2, norm1, norm2}.{weight, bias}, norm.{weight, bias}, head.{weight, bias}.

Usage:
  /usr/bin/python3 bench/ardm_torch.py params [--config C.json]
  /usr/bin/python3 bench/ardm_torch.py dump --config C.json --weights W.json --inputs I.json --out IO.json [--threads 1] [--dtype float64]
  /usr/bin/python3 bench/ardm_torch.py bench [--config C.json] --mode train|sample [--batch 32] [--reps 5] [--warmup 2] [--threads 2]

--config is a JSON object of the TypeScript ArdmTransformerConfig's keys (height, width, channels,
categories, modelWidth, layers, heads, mlpRatio); without it, the sprites' network
(16 x 16 x 3, K = 256, width 128, 4 blocks, 4 heads, ratio 4).
params prints {"params": N, "per_module": {...}}. dump takes the project's weights (state_dict
names, PyTorch layouts, flat) and inputs (x [N, D] integers, mask [N, D] of 0 and 1) and writes
the logits [N, D, K] flat, Eq. 4's loss on that mask (batch mean, nats), and every parameter's
gradient of it (flat, PyTorch layouts). bench times one training step (a draw of t and sigma per
datum, Eq. 4's loss, backward, Adam 1e-3) or one forward without gradients at a random mask, and
prints one JSON line:
  {"side": "torch", "mode": "train", "batch": 32, "threads": 2, "torch": "...", "params": N, "times_ms": [...], "median_ms": ...}
Runs on Debian's python3-torch 1.13 (apt-get install -y python3-torch; /usr/bin/python3, as the parity tests run it)
and on PyPI's torch 2.15 (.venv-torch/bin/python, as npm run bench runs it: scripts/bench-torch-venv.sh).
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from twin_tools import count_params, flat, load_weights, print_bench, run_twin, time_steps, twin_parser

SPRITE_CONFIG = {'height': 16, 'width': 16, 'channels': 3, 'categories': 256,
                 'modelWidth': 128, 'layers': 4, 'heads': 4, 'mlpRatio': 4}


class ArdmTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.channels, self.categories = c['channels'], c['categories']
        self.positions = c['height'] * c['width']
        width = c['modelWidth']
        # N(0, 1) as nn.Embedding's default, like the value table beside it.
        self.position_embedding = nn.Parameter(torch.randn(self.positions, width))
        self.value_embedding = nn.Embedding(self.channels * (self.categories + 1), width)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(width, c['heads'], dim_feedforward=c['mlpRatio'] * width, dropout=0.0,
                                       activation='gelu', batch_first=True, norm_first=True)
            for _ in range(c['layers'])])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, self.channels * self.categories)
        self.register_buffer('channel_offsets', torch.arange(self.channels) * (self.categories + 1), persistent=False)

    def forward(self, x, mask):
        """x [N, D] long, mask [N, D] (1 = given) -> logits [N, D, K]."""
        n = x.shape[0]
        tokens = torch.where(mask > 0.5, x, torch.full_like(x, self.categories))
        rows = tokens.view(n, self.positions, self.channels) + self.channel_offsets
        h = self.value_embedding(rows).sum(dim=2) + self.position_embedding
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h)).view(n, self.positions * self.channels, self.categories)


def order_agnostic_loss(logits, x, mask):
    """Eq. 4 (Algorithm 1): mean over the batch of -(D / (D - t + 1)) sum_{k not given} log p(x_k | given)."""
    d = x.shape[1]
    log_p = torch.log_softmax(logits, dim=-1).gather(2, x[:, :, None])[:, :, 0]
    not_given = d - mask.sum(dim=1)
    return (-(d / not_given) * ((1 - mask) * log_p).sum(dim=1)).mean()


def read_config(path):
    if not path:
        return dict(SPRITE_CONFIG)
    with open(path) as f:
        try:
            config = json.load(f)
        except json.JSONDecodeError as error:
            raise SystemExit(f'{path}: not a JSON object of the config keys {sorted(SPRITE_CONFIG)} ({error})')
    if not isinstance(config, dict) or set(config) != set(SPRITE_CONFIG):
        raise SystemExit(f'{path}: the config needs exactly the keys {sorted(SPRITE_CONFIG)}; got {sorted(config) if isinstance(config, dict) else type(config).__name__}')
    return config


def params_cmd(args):
    model = ArdmTransformer(read_config(args.config))
    per_module = {}
    for key, p in model.named_parameters():
        parts = key.split('.')
        top = '.'.join(parts[:2]) if parts[0] == 'blocks' else parts[0]
        per_module[top] = per_module.get(top, 0) + p.numel()
    print(json.dumps({'params': count_params(model), 'per_module': per_module}))


def dump(args):
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    config = read_config(args.config)
    model = ArdmTransformer(config)
    load_weights(model, args.weights)
    model.to(dtype)
    with open(args.inputs) as f:
        inputs = json.load(f)
    d = config['height'] * config['width'] * config['channels']
    x = torch.tensor(inputs['x'], dtype=torch.long).view(-1, d)
    mask = torch.tensor(inputs['mask'], dtype=torch.float32).to(dtype).view(-1, d)
    logits = model(x, mask)
    loss = order_agnostic_loss(logits, x, mask)
    loss.backward()
    io = {'logits': flat(logits), 'loss': loss.item(), 'params': count_params(model), 'torch': torch.__version__,
          'grads': {k: flat(p.grad) for k, p in model.named_parameters()}}
    with open(args.out, 'w') as f:
        json.dump(io, f)
    print(json.dumps({'loss': io['loss'], 'params': io['params'], 'out': args.out}))


def random_masks(batch, d):
    """Algorithm 1, lines 2-4: per datum t ~ U{1..D} and sigma uniform; mask = 1 on sigma(< t)."""
    t = torch.randint(1, d + 1, (batch, 1))
    ranks = torch.argsort(torch.rand(batch, d), dim=1)  # the step at which each variable is decoded, 0-based
    return (ranks < t - 1).float()


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = read_config(args.config)
    model = ArdmTransformer(config)
    d = config['height'] * config['width'] * config['channels']
    x = torch.randint(0, config['categories'], (args.batch, d))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        mask = random_masks(args.batch, d)
        if args.mode == 'sample':
            with torch.no_grad():
                return float(model(x, mask)[0, 0, 0])
        opt.zero_grad()
        loss = order_agnostic_loss(model(x, mask), x, mask)
        loss.backward()
        opt.step()
        return loss.item()
    times = time_steps(step, args.warmup, args.reps)
    print_bench(args.mode, args.batch, model, times)


def main():
    ap = twin_parser(__doc__, ['train', 'sample'], 'x and mask, [N, D] flat', 32, 'data per step')
    ap.add_argument('--config', help='a JSON file of the ArdmTransformerConfig keys (default: the sprites\' network)')
    run_twin(ap, {'params': params_cmd, 'dump': dump, 'bench': bench})


if __name__ == '__main__':
    main()
