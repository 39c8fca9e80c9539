#!/usr/bin/python3
"""PyTorch twin of the project's attention UNet (src/lib/model/attentionUnet), built from the same
JSON config file (configs/*.json: its dataset and model sections), for the parity test and benches.

The architecture is explainingai-code/DDPM-Pytorch's Unet (MIT), written here from its
description with the project's names and three departures, each the project's own:
  - a ResNet block's shortcut is the identity when its width stays, a 1x1 conv only when it
    changes (theirs: a 1x1 conv in every block);
  - the sinusoidal time embedding sees 1000 t / T, t = 1..T (theirs: the integer index 0..T-1),
    so the model takes t / T as every model of the project does;
  - the width of the last up block and output head is the config's finalChannels (theirs: 16).

Module names are the project's state_dict keys (time_mlp.0.weight, downs.0.resnets.1.conv2.weight,
downs.0.attentions.0.attention.in_proj_weight, ups.0.upsample.weight, norm_out.weight, ...).

Usage:
  /usr/bin/python3 bench/attention_unet_torch.py params --config configs/mnist.json
  /usr/bin/python3 bench/attention_unet_torch.py dump --config C.json --weights W.json --inputs I.json --out IO.json [--threads 1] [--dtype float64]
  /usr/bin/python3 bench/attention_unet_torch.py bench --config configs/mnist.json --mode train|sample|ddim [--batch 0] [--reps 5] [--warmup 2] [--threads 2]

params prints {"params": N, "per_module": {...}}. dump takes the project's weights (state_dict
names, PyTorch layouts, flat), inputs (x and noise NCHW flat, t_fraction) and writes the output, the
MSE loss to the noise, every parameter's gradient of it (flat, PyTorch layouts) and the
top-level modules' outputs. bench times, on the config's linear schedule (as the library's
linearSchedule: beta_t = betaStart + (betaEnd - betaStart) t / T, t = 0..T, alphaBar_0 := 1) and
the same terms as `npm run bench` (bench/worker.ts):
  train   one training step at the config's batchSize: t ~ U{1..T}, x_t = sqrt(alphaBar_t) x_0 +
          sqrt(1 - alphaBar_t) eps, MSE to eps, backward, Adam at the config's learning rate;
  sample  one DDPM step at batch 32 (forward without gradients + the course's update at t = T / 2,
          clamped to +-5 so repeated steps stay bounded, as the reference's sample mode);
  ddim    DDIM-25 of 32 images from noise, end to end (Song et al. 2021, eq. 12, eta = 0, no clipping),
and prints one JSON line:
  {"side": "torch", "mode": "train", "batch": 64, "threads": 2, "torch": "...", "params": N, "times_ms": [...], "median_ms": ...}
Requires Debian's python3-torch (apt-get install -y python3-torch), run with /usr/bin/python3.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from twin_tools import count_params, flat, load_weights, print_bench, run_twin, time_steps, twin_parser

TIME_SCALE = 1000  # the embedding sees 1000 t / T (src/lib/model/attentionUnet/timeEmbedding.ts)


def sinusoidal_embedding(t_fraction, size):
    """[sin(s w_i) | cos(s w_i)], s = 1000 t / T, w_i = 10000^(-i / (size / 2)) computed in float64, used in float32."""
    half = size // 2
    freqs = torch.tensor([10000.0 ** (-i / half) for i in range(half)], dtype=torch.float64).to(t_fraction.dtype)
    angles = (t_fraction * TIME_SCALE)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class ResnetBlock(nn.Module):
    """norm1 -> SiLU -> conv1 (+ time_proj(SiLU(t_emb))) -> norm2 -> SiLU -> conv2, plus x (1x1 conv when the width changes)."""

    def __init__(self, cin, cout, time_size, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_proj = nn.Linear(time_size, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, t_emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_proj(F.silu(t_emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (x if self.shortcut is None else self.shortcut(x))


class AttentionBlock(nn.Module):
    """x + MultiheadAttention(GroupNorm(x)) over the H W positions."""

    def __init__(self, channels, heads, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x):
        n, c, h, w = x.shape
        seq = self.norm(x).reshape(n, c, h * w).transpose(1, 2)
        out, _ = self.attention(seq, seq, seq, need_weights=False)
        return x + out.transpose(1, 2).reshape(n, c, h, w)


def attend_after(resnets, attentions, x, t_emb):
    """Each ResNet, then its attention when the block attends (an empty attentions list: none)."""
    for j, resnet in enumerate(resnets):
        x = resnet(x, t_emb)
        if attentions:
            x = attentions[j](x)
    return x


class DownBlock(nn.Module):
    def __init__(self, cin, cout, layers, time_size, heads, groups, downsample, attends):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else cout, cout, time_size, groups) for j in range(layers)])
        self.attentions = nn.ModuleList([AttentionBlock(cout, heads, groups) for _ in range(layers if attends else 0)])
        self.downsample = nn.Conv2d(cout, cout, 4, 2, 1) if downsample else None

    def forward(self, x, t_emb):
        x = attend_after(self.resnets, self.attentions, x, t_emb)
        return x if self.downsample is None else self.downsample(x)


class MidBlock(nn.Module):
    def __init__(self, cin, cout, layers, time_size, heads, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else cout, cout, time_size, groups) for j in range(layers + 1)])
        self.attentions = nn.ModuleList([AttentionBlock(cout, heads, groups) for _ in range(layers)])

    def forward(self, x, t_emb):
        x = self.resnets[0](x, t_emb)
        for attention, resnet in zip(self.attentions, self.resnets[1:]):
            x = resnet(attention(x), t_emb)
        return x


class UpBlock(nn.Module):
    def __init__(self, cin, cout, layers, time_size, heads, groups, upsample, attends):
        super().__init__()
        self.upsample = nn.ConvTranspose2d(cin // 2, cin // 2, 4, 2, 1) if upsample else None
        self.resnets = nn.ModuleList([ResnetBlock(cin if j == 0 else cout, cout, time_size, groups) for j in range(layers)])
        self.attentions = nn.ModuleList([AttentionBlock(cout, heads, groups) for _ in range(layers if attends else 0)])

    def forward(self, x, skip, t_emb):
        x = torch.cat([x if self.upsample is None else self.upsample(x), skip], dim=1)
        return attend_after(self.resnets, self.attentions, x, t_emb)


class AttentionUnet(nn.Module):
    def __init__(self, image_channels, model):
        super().__init__()
        down, mid, flags = model['downChannels'], model['midChannels'], model['downsample']
        attends = model.get('attention', [True] * (len(down) - 1))  # absent: every block attends
        size, heads, groups = model['timeEmbeddingSize'], model['attentionHeads'], model['normGroups']
        self.time_size = size
        self.time_mlp = nn.Sequential(nn.Linear(size, size), nn.SiLU(), nn.Linear(size, size))
        self.conv_in = nn.Conv2d(image_channels, down[0], 3, padding=1)
        self.downs = nn.ModuleList([DownBlock(down[i], down[i + 1], model['downLayers'], size, heads, groups, flags[i], attends[i])
                                    for i in range(len(down) - 1)])
        self.mids = nn.ModuleList([MidBlock(mid[i], mid[i + 1], model['midLayers'], size, heads, groups) for i in range(len(mid) - 1)])
        self.ups = nn.ModuleList([UpBlock(2 * down[i], down[i - 1] if i > 0 else model['finalChannels'], model['upLayers'], size, heads, groups, flags[i], attends[i])
                                  for i in reversed(range(len(down) - 1))])
        self.norm_out = nn.GroupNorm(groups, model['finalChannels'])
        self.conv_out = nn.Conv2d(model['finalChannels'], image_channels, 3, padding=1)

    def forward(self, x, t_fraction, trace=None):
        record = (lambda name, y: trace.append((name, y))) if trace is not None else (lambda name, y: None)
        t_emb = self.time_mlp(sinusoidal_embedding(t_fraction, self.time_size))
        record('time_mlp', t_emb)
        h = self.conv_in(x)
        record('conv_in', h)
        skips = []
        for i, block in enumerate(self.downs):
            skips.append(h)
            h = block(h, t_emb)
            record(f'downs.{i}', h)
        for i, block in enumerate(self.mids):
            h = block(h, t_emb)
            record(f'mids.{i}', h)
        for u, block in enumerate(self.ups):
            h = block(h, skips.pop(), t_emb)
            record(f'ups.{u}', h)
        out = self.conv_out(F.silu(self.norm_out(h)))
        record('out', out)
        return out


def read_config(path):
    """The dataset and model sections of a project config (the library validates the whole file)."""
    with open(path) as f:
        config = json.load(f)
    return config['dataset'], config['model']


def build(config_path):
    dataset, model = read_config(config_path)
    return AttentionUnet(dataset['channels'], model), dataset


def params_cmd(args):
    model, _ = build(args.config)
    per_module = {}
    for key, p in model.named_parameters():
        top = key.split('.')[0] if key.split('.')[0] not in ('downs', 'mids', 'ups') else '.'.join(key.split('.')[:2])
        per_module[top] = per_module.get(top, 0) + p.numel()
    print(json.dumps({'params': count_params(model), 'per_module': per_module}))


def dump(args):
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    model, dataset = build(args.config)
    load_weights(model, args.weights)
    model.to(dtype)
    with open(args.inputs) as f:
        inputs = json.load(f)
    n = len(inputs['t_fraction'])
    shape = (n, dataset['channels'], dataset['imageSize'], dataset['imageSize'])
    x = torch.tensor(inputs['x'], dtype=torch.float32).to(dtype).view(shape)
    noise = torch.tensor(inputs['noise'], dtype=torch.float32).to(dtype).view(shape)
    t_fraction = torch.tensor(inputs['t_fraction'], dtype=torch.float32).to(dtype)
    trace = []
    out = model(x, t_fraction, trace)
    loss = F.mse_loss(out, noise)
    loss.backward()
    io = {'out': flat(out), 'loss': loss.item(), 'params': count_params(model), 'torch': torch.__version__,
          'trace': {name: {'shape': list(y.shape), 'data': flat(y)} for name, y in trace},
          'grads': {k: flat(p.grad) for k, p in model.named_parameters()}}
    with open(args.out, 'w') as f:
        json.dump(io, f)
    print(json.dumps({'loss': io['loss'], 'params': io['params'], 'out': args.out}))


def linear_schedule(training):
    """beta_t, alpha_t, alphaBar_t for t = 0..T in float64, as the library's linearSchedule (the course's)."""
    T = training['T']
    beta = training['betaStart'] + (training['betaEnd'] - training['betaStart']) * torch.arange(T + 1, dtype=torch.float64) / T
    alpha_bar = torch.cumprod(1 - beta, 0)
    alpha_bar[0] = 1
    return beta, 1 - beta, alpha_bar


DDIM_STEPS = 25


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, dataset = build(args.config)
    with open(args.config) as f:
        training = json.load(f)['training']
    T = training['T']
    beta, alpha, alpha_bar = (a.float() for a in linear_schedule(training))
    B = args.batch or (training['batchSize'] if args.mode == 'train' else 32)
    shape = (B, dataset['channels'], dataset['imageSize'], dataset['imageSize'])
    if args.mode == 'train':
        x0 = torch.rand(shape) * 2 - 1
        opt = torch.optim.Adam(model.parameters(), lr=training['learningRate'])

        def step():
            opt.zero_grad()
            t = torch.randint(1, T + 1, (B,))
            noise = torch.randn_like(x0)
            ab = alpha_bar[t].view(-1, 1, 1, 1)
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise  # Ho et al. 2020, eq. 4
            loss = F.mse_loss(model(xt, t.float() / T), noise)  # L_simple, eq. 14
            loss.backward()
            opt.step()
            return loss.item()
    elif args.mode == 'sample':
        model.eval()
        state = {'x': torch.randn(shape)}
        i = T // 2

        def step():
            with torch.no_grad():
                eps = model(state['x'], torch.full((B,), i / T))
                # Ho et al. 2020, Algorithm 2, sigma_t^2 = beta_t
                x = (state['x'] - eps * ((1 - alpha[i]) / (1 - alpha_bar[i]).sqrt())) / alpha[i].sqrt() + beta[i].sqrt() * torch.randn_like(eps)
                state['x'] = x.clamp(-5, 5)
            return float(x[0, 0, 0, 0])
    else:
        model.eval()
        stride = T // DDIM_STEPS

        def step():
            with torch.no_grad():
                x = torch.randn(shape)
                for i in range(T, 0, -stride):
                    eps = model(x, torch.full((B,), i / T))
                    ab, abp = alpha_bar[i], alpha_bar[max(i - stride, 0)]
                    x = abp.sqrt() / ab.sqrt() * (x - (1 - ab).sqrt() * eps) + (1 - abp).sqrt() * eps  # Song et al. 2021, eq. 12, eta = 0
            return float(x[0, 0, 0, 0])
    times = time_steps(step, args.warmup, args.reps)
    print_bench(args.mode, B, model, times, **({'steps': DDIM_STEPS} if args.mode == 'ddim' else {}))


def main():
    ap = twin_parser(__doc__, ['train', 'sample', 'ddim'], 'x, noise (NCHW, flat) and t_fraction', 0, '0 = the config\'s batchSize for train, 32 for sample and ddim')
    ap.add_argument('--config', required=True, help='a project config file (configs/*.json)')
    run_twin(ap, {'params': params_cmd, 'dump': dump, 'bench': bench})


if __name__ == '__main__':
    main()
