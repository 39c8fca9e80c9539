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
  /usr/bin/python3 bench/caption_encoder_torch.py bench --config C.json --mode train [--batch 100] [--reps 5] [--warmup 2] [--threads 2]

The config is the encoder's (CaptionEncoderConfig: vocabularySize, maxTokens, embeddingWidth,
hiddenWidth, contextSize). params prints {"params": N}. dump takes the project's weights (state_dict
names, PyTorch layouts, flat) and inputs (token_ids [N, maxTokens] as nested lists, target
[N, contextSize] flat) and writes the pooled embeddings, the context vectors, the MSE loss to the
target and every parameter's gradient of it (flat, PyTorch layouts). bench times one forward and
backward of the MSE loss at a batch of random captions (train mode) and prints the twins' JSON line.
Requires Debian's python3-torch (apt-get install -y python3-torch), run with /usr/bin/python3.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from twin_tools import count_params, flat, load_weights, print_bench, run_twin, time_steps, twin_parser

PAD_ID = 0
UNKNOWN_ID = 1


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
    with open(path) as f:
        return json.load(f)


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


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = read_config(args.config)
    model = CaptionEncoder(config)
    batch = args.batch or 100
    lengths = torch.randint(1, config['maxTokens'] + 1, (batch, 1))
    token_ids = torch.randint(2, config['vocabularySize'], (batch, config['maxTokens']))
    token_ids = token_ids * (torch.arange(config['maxTokens'])[None, :] < lengths)
    target = torch.randn(batch, config['contextSize'])

    def step():
        model.zero_grad()
        loss = F.mse_loss(model(token_ids)[1], target)
        loss.backward()
        return loss.item()

    print_bench(args.mode, batch, model, time_steps(step, args.warmup, args.reps))


if __name__ == '__main__':
    ap = twin_parser(__doc__, ['train'], 'token_ids [N, maxTokens] and target [N, contextSize]', batch_default=100,
                     batch_help='captions per step')
    ap.add_argument('--config', required=True, help="the encoder's CaptionEncoderConfig (JSON)")
    run_twin(ap, {'params': params_cmd, 'dump': dump, 'bench': bench})
