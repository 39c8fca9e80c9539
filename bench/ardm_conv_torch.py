#!/usr/bin/python3
"""PyTorch twin of the project's ARDM convolutional UNet (src/lib/ardm/convNetwork.ts), for the
parity test and benches: an order-agnostic Autoregressive Diffusion Model's network (Hoogeboom et
al., ICLR 2022) over an image's H x W pixels with the mask as input channels, built from the same
config keys.

Variables: an H x W x C image of K-valued channels is D = H W C variables, k = position * C + channel
(NHWC flattened). A variable not given (mask 0) enters as its channel's masked token K, so the
network never sees its value. Pixel l's input is sum_c E[c (K + 1) + token] (levelWidths[0]
channels) beside its C mask entries; then conv_in 3x3, a UNet of residual blocks (GroupNorm, SiLU,
3x3 conv, twice, no time embedding) with a 4x4 stride-2 conv down and a 4x4 transposed conv up
between levels, skips concatenated on the way up, and GroupNorm, SiLU, a 1x1 conv to C K logits per
pixel, read as [N, D, K].

State_dict keys (the project's): value_embedding.weight, conv_in, down.{i}.blocks.{j}.{norm1, conv1,
norm2, conv2, shortcut}, down.{i}.downsample, up.{i}.upsample, up.{i}.blocks.{j}.*, norm_out, conv_out.

Usage:
  /usr/bin/python3 bench/ardm_conv_torch.py params [--config C.json]
  /usr/bin/python3 bench/ardm_conv_torch.py dump --config C.json --weights W.json --inputs I.json --out IO.json [--threads 1] [--dtype float64]
  /usr/bin/python3 bench/ardm_conv_torch.py bench [--config C.json] --mode train|sample [--batch 32] [--reps 5] [--warmup 2] [--threads 2]

--config is a JSON object of the TypeScript ArdmConvUnetConfig's keys (height, width, channels,
categories, levelWidths, blocksPerLevel, groups); without it, the sprites' network (16 x 16 x 3,
K = 256, widths [64, 96], 2 blocks a level, 8 groups). params, dump and bench as bench/ardm_torch.py's
(dump: the logits, Eq. 4's loss on the given mask and every parameter's gradient of it; bench: one
training step at a fresh (t, sigma) per datum with Adam 1e-3, or one forward at a random mask).
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from ardm_torch import order_agnostic_loss, random_masks
from twin_tools import count_params, flat, load_weights, print_bench, run_twin, time_steps, twin_parser

SPRITE_CONFIG = {'height': 16, 'width': 16, 'channels': 3, 'categories': 256,
                 'levelWidths': [64, 96], 'blocksPerLevel': 2, 'groups': 8}


class Residual(nn.Module):
    """x + conv2(SiLU(GroupNorm(conv1(SiLU(GroupNorm(x)))))), x through a 1x1 conv when the width changes."""

    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv2(F.silu(self.norm2(self.conv1(F.silu(self.norm1(x))))))
        return h + (self.shortcut(x) if self.shortcut is not None else x)


class Level(nn.Module):
    """One resolution's blocks, with the resampling conv that leaves (down) or enters (up) it."""

    def __init__(self, inputs, width, groups, down=None, up=None):
        super().__init__()
        if up is not None:
            self.upsample = nn.ConvTranspose2d(up, up, 4, 2, 1)
        self.blocks = nn.ModuleList([Residual(cin, width, groups) for cin in inputs])
        if down:
            self.downsample = nn.Conv2d(width, width, 4, 2, 1)


class ArdmConvUnet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        w, b, g = c['levelWidths'], c['blocksPerLevel'], c['groups']
        levels = len(w)
        self.value_embedding = nn.Embedding(c['channels'] * (c['categories'] + 1), w[0])
        self.conv_in = nn.Conv2d(w[0] + c['channels'], w[0], 3, padding=1)
        self.down = nn.ModuleList([
            Level([w[max(i - 1, 0)]] + [w[i]] * (b - 1), w[i], g, down=i < levels - 1) for i in range(levels)])
        self.up = nn.ModuleList([
            Level([w[i + 1] + w[i]] + [w[i]] * (b - 1), w[i], g, up=w[i + 1]) for i in range(levels - 1)])
        self.norm_out = nn.GroupNorm(g, w[0])
        self.conv_out = nn.Conv2d(w[0], c['channels'] * c['categories'], 1)
        self.register_buffer('channel_offsets', torch.arange(c['channels']) * (c['categories'] + 1), persistent=False)

    def forward(self, x, mask):
        """x [N, D] long, mask [N, D] (1 = given) -> logits [N, D, K]."""
        c = self.c
        n, h_, w_, ch, k = x.shape[0], c['height'], c['width'], c['channels'], c['categories']
        given = mask > 0.5
        tokens = torch.where(given, x, torch.full_like(x, k))
        values = self.value_embedding(tokens.view(n, h_, w_, ch) + self.channel_offsets).sum(dim=3)  # [N, H, W, w0]
        inputs = torch.cat([values, given.view(n, h_, w_, ch).to(values.dtype)], dim=3).permute(0, 3, 1, 2)
        h = self.conv_in(inputs)
        skips = []
        for level in self.down:
            for block in level.blocks:
                h = block(h)
            if hasattr(level, 'downsample'):
                skips.append(h)
                h = level.downsample(h)
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            h = torch.cat([level.upsample(h), skips[i]], dim=1)
            for block in level.blocks:
                h = block(h)
        out = self.conv_out(F.silu(self.norm_out(h)))  # [N, C K, H, W]
        return out.permute(0, 2, 3, 1).reshape(n, h_ * w_ * ch, k)


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
    model = ArdmConvUnet(read_config(args.config))
    per_module = {}
    for key, p in model.named_parameters():
        parts = key.split('.')
        top = '.'.join(parts[:2]) if parts[0] in ('down', 'up') else parts[0]
        per_module[top] = per_module.get(top, 0) + p.numel()
    print(json.dumps({'params': count_params(model), 'per_module': per_module}))


def dump(args):
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    config = read_config(args.config)
    model = ArdmConvUnet(config)
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


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = read_config(args.config)
    model = ArdmConvUnet(config)
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
    ap.add_argument('--config', help='a JSON file of the ArdmConvUnetConfig keys (default: the sprites\' network)')
    run_twin(ap, {'params': params_cmd, 'dump': dump, 'bench': bench})


if __name__ == '__main__':
    main()
