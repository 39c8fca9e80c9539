#!/usr/bin/python3
"""Continue training a project model in PyTorch, on a GPU when there is one.

Takes a model exported with `npm run export -- --checkpoint DIR --out model.safetensors`, loads it
into the reference ContextUnet (../shared/bench/contextunet_torch.py, the same keys and shapes) and
trains it on with the course's recipe: Adam (lr 1e-3) decayed linearly per epoch,
lr * (1 - epoch / epochs); batch 100; t uniform in 1..T; x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps
(the square root the course leaves out, as the project trains); MSE on eps; with --labels, the
context is kept with p = 0.9 and zeroed with p = 0.1. Writes a .safetensors that the project loads
back (loadModel("out.safetensors"), or any command's --checkpoint out.safetensors); with
--pth, also a .pth state_dict for PyTorch users.

Usage:
  /usr/bin/python3 bench/continue_training_torch.py --model model.safetensors \\
      --images data/sprites/sprites_16x16.npy [--labels data/sprites/sprite_labels_16x16.npy] \\
      [--epochs 32] [--max-steps N] [--batch 100] [--lr 1e-3] [--device auto|cpu|cuda] \\
      [--seed 0] --out continued.safetensors [--pth continued.pth]

--device auto takes cuda when torch.cuda.is_available(), else the CPU. The schedule is the one the
export records (linear only), else the course's (T = 500, beta 1e-4..0.02).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # leave no __pycache__ beside the reference in ../shared
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench'))
from contextunet_torch import ContextUnet  # noqa: E402

METADATA_KEY = 'sprite-diffusion'
DTYPES = {'F32': np.float32, 'I64': np.int64}
DTYPE_NAMES = {np.dtype(np.float32): 'F32', np.dtype(np.int64): 'I64'}


def read_safetensors(path):
    """(tensors by name, metadata) from a .safetensors file, with numpy and json alone."""
    with open(path, 'rb') as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], 'little')
    header = json.loads(blob[8:8 + n])
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        array = np.frombuffer(blob[8 + n + begin:8 + n + end], dtype=DTYPES[e['dtype']]).reshape(e['shape'])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes tensors (CPU, float32 or int64) and string metadata as safetensors."""
    header, chunks, offset = {'__metadata__': metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {'dtype': DTYPE_NAMES[t.detach().cpu().numpy().dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(len(text).to_bytes(8, 'little') + text + b''.join(chunks))


def course_schedule(T, beta1, beta2, device):
    b_t = (beta2 - beta1) * torch.linspace(0, 1, T + 1, device=device) + beta1
    ab_t = torch.cumsum((1 - b_t).log(), dim=0).exp()
    ab_t[0] = 1
    return ab_t


def load_data(images_path, labels_path, n_context):
    images = np.load(images_path)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        sys.exit(f'{images_path}: expected uint8 [N, H, W, 3] sprites, got {images.dtype} {images.shape}')
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 * 2 - 1  # NCHW in [-1, 1], as the course's transform
    c = None
    if labels_path:
        labels = np.load(labels_path)
        if labels.shape != (images.shape[0], n_context):
            sys.exit(f'{labels_path}: expected [{images.shape[0]}, {n_context}] labels, got {labels.shape}')
        c = torch.from_numpy(labels.astype(np.float32))
    return x, c


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True, help='exported .safetensors')
    parser.add_argument('--images', required=True, help='uint8 [N, H, W, 3] .npy')
    parser.add_argument('--labels', help='one-hot [N, n_cfeat] .npy: train with context')
    parser.add_argument('--epochs', type=int, default=32)
    parser.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (0: all epochs)')
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='.safetensors to write')
    parser.add_argument('--pth', help='also write a torch.save state_dict here')
    args = parser.parse_args()

    device = torch.device('cuda' if args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available()) else 'cpu')
    torch.manual_seed(args.seed)
    tensors, metadata = read_safetensors(args.model)
    recorded = json.loads(metadata.get(METADATA_KEY, '{}'))
    schedule = recorded.get('schedule', {'kind': 'linear', 'T': 500, 'betaStart': 1e-4, 'betaEnd': 0.02})
    if schedule['kind'] != 'linear':
        sys.exit(f'{args.model}: schedule {schedule["kind"]}; this script trains on the linear schedule only')
    w = tensors['init_conv.conv1.0.weight']
    nf, nc, h = w.shape[0], tensors['contextembed1.l1.weight'].shape[1], 4 * tensors['up0.0.weight'].shape[2]
    if tensors['out.3.weight'].shape[0] != w.shape[1]:
        sys.exit(f'{args.model}: the model predicts a learned variance too; the reference ContextUnet predicts eps only')
    model = ContextUnet(w.shape[1], nf, nc, h)
    model.load_state_dict(tensors, strict=True)
    model.to(device).train()

    x_all, c_all = load_data(args.images, args.labels, nc)
    ab_t = course_schedule(schedule['T'], schedule['betaStart'], schedule['betaEnd'], device)
    optim = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = max(1, (len(x_all) + args.batch - 1) // args.batch)
    print(f'{args.model}: ContextUnet(n_feat={nf}, n_cfeat={nc}, height={h}) on {device}, '
          f'{len(x_all)} sprites, {"with" if c_all is not None else "without"} context, T = {schedule["T"]}', flush=True)
    step, began = 0, time.time()
    for epoch in range(args.epochs):
        for g in optim.param_groups:
            g['lr'] = args.lr * (1 - epoch / args.epochs)
        order = torch.randperm(len(x_all))
        for i in range(steps_per_epoch):
            index = order[i * args.batch:(i + 1) * args.batch]
            x0 = x_all[index].to(device)
            noise = torch.randn_like(x0)
            t = torch.randint(1, schedule['T'] + 1, (len(x0),), device=device)
            ab = ab_t[t, None, None, None]
            x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
            if c_all is not None:
                keep = torch.bernoulli(torch.full((len(x0), 1), 0.9, device=device))
                c = c_all[index].to(device) * keep
            else:
                c = torch.zeros(len(x0), nc, device=device)
            loss = F.mse_loss(model(x_t, t / schedule['T'], c), noise)
            optim.zero_grad()
            loss.backward()
            optim.step()
            step += 1
            if step % 100 == 0 or step == args.max_steps:
                print(f'epoch {epoch} step {step} loss {loss.item():.4f} ({time.time() - began:.0f} s)', flush=True)
            if step == args.max_steps:
                break
        if step == args.max_steps:
            break

    model.cpu()
    state = model.state_dict()
    recorded.update({'weights': 'raw', 'source': f'{os.path.basename(args.model)} + {step} PyTorch steps',
                     'schedule': schedule})
    write_safetensors(args.out, state, {'format': 'pt', METADATA_KEY: json.dumps(recorded)})
    if args.pth:
        torch.save(state, args.pth)
    print(f'wrote {args.out}{" and " + args.pth if args.pth else ""} after {step} steps', flush=True)


if __name__ == '__main__':
    main()
