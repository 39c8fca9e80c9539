#!/usr/bin/python3
"""PyTorch twin of the project's caption encoder (src/lib/text/captionEncoder.ts): a caption's token
ids to the context vector of its text-conditioned ContextUnet, for the parity test and benches.

  e_n = mean of nn.Embedding(V, E, padding_idx=0) over caption n's words: neither <pad> (id 0) nor
        <unk> (id 1), whose row never trains (0 when none)
  c_n = Linear(H, C)(GELU(Linear(E, H)(e_n)))

Written the plain PyTorch way (an embedding lookup and a masked mean), where the library counts
words with one-hots and multiplies: the parity test checks that the two agree. Module names are
the library's state_dict keys: token_embedding.weight, mlp.0.weight, mlp.0.bias, mlp.2.weight,
mlp.2.bias.

Usage:
  /usr/bin/python3 bench/caption_encoder_torch.py params --config C.json
  /usr/bin/python3 bench/caption_encoder_torch.py dump --config C.json --weights W.json --inputs I.json --out IO.json [--threads 1] [--dtype float64]
  /usr/bin/python3 bench/caption_encoder_torch.py bench --config C.json --mode train|text-train|text-sample [--batch N] [--reps 5] [--warmup 2] [--threads 2]

The config is the encoder's (CaptionEncoderConfig: vocabularySize, maxTokens, embeddingWidth,
hiddenWidth, contextSize), or a text model's manifest.json that records it (models/text's).
params prints {"params": N}. dump takes the project's weights (state_dict names, PyTorch layouts,
flat) and inputs (token_ids [N, maxTokens] as nested lists, target
[N, contextSize] flat) and writes the pooled embeddings, the context vectors, the MSE loss to the
target and every parameter's gradient of it (flat, PyTorch layouts). bench times one forward and
backward of the MSE loss at a batch of random captions (train mode), or the whole text model (the
encoder into the shared reference's ContextUnet with nc = contextSize): its training step at batch
100 as the reference's train mode with caption dropout 0.1 (text-train), one DDPM step at batch 32
as the reference's sample mode (text-sample); it prints the twins' JSON line.
Requires Debian's python3-torch (apt-get install -y python3-torch), run with /usr/bin/python3.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from twin_tools import count_params, flat, load_reference, load_weights, print_bench, run_twin, time_steps, twin_parser

PAD_ID = 0
UNKNOWN_ID = 1
CAPTION_DROPOUT = 0.1  # the trainer's contextDropout (COURSE_TRAIN_CONFIG)


class CaptionEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.token_embedding = nn.Embedding(config['vocabularySize'], config['embeddingWidth'], padding_idx=PAD_ID)
        self.mlp = nn.Sequential(nn.Linear(config['embeddingWidth'], config['hiddenWidth']), nn.GELU(),
                                 nn.Linear(config['hiddenWidth'], config['contextSize']))

    def pooled(self, token_ids):
        """[N, L] int64 ids -> [N, E]: the mean embedding of the words (pads and unknown words masked)."""
        words = ((token_ids != PAD_ID) & (token_ids != UNKNOWN_ID)).to(self.token_embedding.weight.dtype)
        total = (self.token_embedding(token_ids) * words[:, :, None]).sum(1)
        return total / words.sum(1, keepdim=True).clamp(min=1)

    def forward(self, token_ids):
        pooled = self.pooled(token_ids)
        return pooled, self.mlp(pooled)


def read_config(path):
    """The encoder's config: a CaptionEncoderConfig file, or a text model's checkpoint manifest (its
    architecture.config.encoder, as models/text/manifest.json records it)."""
    with open(path) as f:
        config = json.load(f)
    return config['architecture']['config']['encoder'] if 'architecture' in config else config


def params_cmd(args):
    print(json.dumps({'params': count_params(CaptionEncoder(read_config(args.config)))}))


def dump(args):
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    model = CaptionEncoder(read_config(args.config))
    load_weights(model, args.weights)
    model.to(dtype)
    with open(args.inputs) as f:
        inputs = json.load(f)
    token_ids = torch.tensor(inputs['token_ids'], dtype=torch.int64)
    target = torch.tensor(inputs['target'], dtype=torch.float32).to(dtype).view(token_ids.shape[0], -1)
    pooled, out = model(token_ids)
    loss = F.mse_loss(out, target)
    loss.backward()
    io = {'pooled': flat(pooled), 'out': flat(out), 'loss': loss.item(), 'params': count_params(model), 'torch': torch.__version__,
          'grads': {k: flat(p.grad) for k, p in model.named_parameters()}}
    with open(args.out, 'w') as f:
        json.dump(io, f)
    print(json.dumps({'loss': io['loss'], 'params': io['params'], 'out': args.out}))


def random_token_ids(config, batch):
    """[batch, maxTokens] captions of 1..maxTokens random words (ids 2..V-1), pads after them."""
    lengths = torch.randint(1, config['maxTokens'] + 1, (batch, 1))
    token_ids = torch.randint(2, config['vocabularySize'], (batch, config['maxTokens']))
    return token_ids * (torch.arange(config['maxTokens'])[None, :] < lengths)


class TextContextUnet(nn.Module):
    """The text model's twin (src/lib/text/textContextUnet.ts): the encoder's context vector into the
    shared reference's ContextUnet with nc = contextSize, eps(x_t, t / T, CaptionEncoder(ids)); its
    modules under encoder.* and unet.*, as the library's keys."""

    def __init__(self, config, reference):
        super().__init__()
        self.encoder = CaptionEncoder(config)
        self.unet = reference.ContextUnet(nc=config['contextSize'])

    def forward(self, x, t, token_ids):
        return self.unet(x, t, self.encoder(token_ids)[1])


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = read_config(args.config)
    reference = load_reference()
    if args.mode == 'train':
        # The encoder alone: forward and backward of the MSE to a random target.
        model = CaptionEncoder(config)
        batch = args.batch or 100
        token_ids = random_token_ids(config, batch)
        target = torch.randn(batch, config['contextSize'])

        def step():
            model.zero_grad()
            loss = F.mse_loss(model(token_ids)[1], target)
            loss.backward()
            return loss.item()
    elif args.mode == 'text-train':
        # The text model's training step as the reference's train mode (batch 100, Adam 1e-3, t
        # uniform in 1..T, L_simple), with the trainer's caption dropout: a row's ids zeroed (the
        # empty caption) with probability 0.1.
        model = TextContextUnet(config, reference).train()
        batch = args.batch or 100
        _, _, ab_t = reference.schedule()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(batch, 3, 16, 16) * 2 - 1
        token_ids = random_token_ids(config, batch)

        def step():
            opt.zero_grad()
            t = torch.randint(1, reference.T_STEPS + 1, (batch,))
            noise = torch.randn_like(x)
            ab = ab_t[t, None, None, None]
            keep = (torch.rand(batch, 1) >= CAPTION_DROPOUT).to(token_ids.dtype)
            pred = model(ab.sqrt() * x + (1 - ab).sqrt() * noise, t.float() / reference.T_STEPS, token_ids * keep)
            loss = F.mse_loss(pred, noise)
            loss.backward()
            opt.step()
            return loss.item()
    else:
        # text-sample: one DDPM step of the text model at batch 32 (eval forward, encoder included,
        # and the update), t = 250, clamped to +-5 as the reference's sample mode.
        model = TextContextUnet(config, reference).eval()
        batch = args.batch or 32
        a_t, b_t, ab_t = reference.schedule()
        token_ids = random_token_ids(config, batch)
        state = {'x': torch.randn(batch, 3, 16, 16)}
        i = reference.T_STEPS // 2

        def step():
            with torch.no_grad():
                eps = model(state['x'], torch.full((batch,), i / reference.T_STEPS), token_ids)
                z = torch.randn_like(eps)
                x = (state['x'] - eps * ((1 - a_t[i]) / (1 - ab_t[i]).sqrt())) / a_t[i].sqrt() + b_t[i].sqrt() * z
                state['x'] = x.clamp(-5, 5)
            return float(x[0, 0, 0, 0])

    print_bench(args.mode, batch, model, time_steps(step, args.warmup, args.reps))


if __name__ == '__main__':
    ap = twin_parser(__doc__, ['train', 'text-train', 'text-sample'], 'token_ids [N, maxTokens] and target [N, contextSize]', 
                     batch_help='captions per step (default 100 for train and text-train, 32 for text-sample)')
    ap.add_argument('--config', required=True, help="the encoder's CaptionEncoderConfig (JSON), or a text model's manifest.json")
    run_twin(ap, {'params': params_cmd, 'dump': dump, 'bench': bench})
