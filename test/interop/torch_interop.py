#!/usr/bin/python3
"""PyTorch's side of the interop tests (test/interop/*.test.ts): makes .pth files with torch.save
and reads the project's .safetensors back into the reference ContextUnet
(../shared/bench/contextunet_torch.py). Nothing here is committed output: the tests write to a
temporary folder.

  save-pth  --out F.pth --io IO.json [--seed S] [--layout reference|course]
      a randomly initialised reference ContextUnet (random BatchNorm statistics too) saved with
      torch.save(model.state_dict()); IO.json holds inputs x (NCHW), t, c and its eval outputs y.
      --layout course renames the keys as the course's diffusion_utilities.py spells them
      (down1.model.0..., up1.model.0..., timeembed1.model.0...) and leaves out init_conv's
      shortcut, whose weights are zeroed in the model that makes y.
  save-views --out F.pth --expect E.json    non-contiguous views, offsets, shared storages, int64
  save-foreign --out F.pth                  a state_dict that also pickles a call to os.system
  save-legacy --out F.pth                   the pre-1.6 (non-zip) format
  save-by-value --out F.pth                 a zip whose data.pkl is pickle.dumps of a state_dict (storages by value)
  course-shortcut --out R.json
      the course's init_conv (a fresh random 1x1 shortcut conv every forward) averaged over many
      forwards, against init_conv with the shortcut at zero: how far one draw and the average stray.
  run-safetensors --model F.safetensors --io IO.json --out Y.json
      loads the file into the reference model (load_state_dict strict) and writes its eval outputs
      on IO.json's inputs; reads with the safetensors package when installed, else numpy + json.
"""
import argparse
import collections
import json
import os
import re
import sys

import torch

sys.dont_write_bytecode = True  # leave no __pycache__ beside the reference in ../shared
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'bench'))
from contextunet_torch import ContextUnet  # noqa: E402

COURSE_NAMES = [
    (r'^(down[12])\.b1\.', r'\1.model.0.'), (r'^(down[12])\.b2\.', r'\1.model.1.'),
    (r'^(up[12])\.up\.', r'\1.model.0.'), (r'^(up[12])\.b1\.', r'\1.model.1.'), (r'^(up[12])\.b2\.', r'\1.model.2.'),
    (r'^((?:time|context)embed[12])\.l1\.', r'\1.model.0.'), (r'^((?:time|context)embed[12])\.l2\.', r'\1.model.2.'),
]


def course_key(key):
    for pattern, replacement in COURSE_NAMES:
        key = re.sub(pattern, replacement, key)
    return key


def random_model(seed, nf=64, nc=5, h=16):
    torch.manual_seed(seed)
    model = ContextUnet(3, nf, nc, h)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith('running_mean'):
                buf.copy_(torch.randn_like(buf) * 0.1)
            elif name.endswith('running_var'):
                buf.copy_(torch.rand_like(buf) + 0.5)
            elif name.endswith('num_batches_tracked'):
                buf.fill_(7)
    return model.eval()


def io_for(model, seed, n=4, nc=5, h=16):
    gen = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(n, 3, h, h, generator=gen)
    t = torch.rand(n, generator=gen)
    c = torch.rand(n, nc, generator=gen)
    with torch.no_grad():
        y = model(x, t, c)
    return {'x': x.reshape(-1).tolist(), 't': t.tolist(), 'c': c.reshape(-1).tolist(), 'y': y.reshape(-1).tolist(),
            'shape': list(x.shape)}


def save_pth(args):
    model = random_model(args.seed, args.nf, args.nc, args.height)
    state = model.state_dict()
    if args.layout == 'course':
        with torch.no_grad():
            model.init_conv.shortcut.weight.zero_()
            model.init_conv.shortcut.bias.zero_()
        state = collections.OrderedDict((course_key(k), v) for k, v in model.state_dict().items()
                                        if not k.startswith('init_conv.shortcut.'))
    torch.save(state, args.out)
    with open(args.io, 'w') as f:
        json.dump(io_for(model, args.seed, nc=args.nc, h=args.height), f)


def save_views(args):
    base = torch.arange(60, dtype=torch.float32).reshape(5, 12) * 0.5 - 3
    views = collections.OrderedDict([
        ('transposed', base.t()),                 # strides (1, 12)
        ('column_slice', base[:, 3:7]),           # offset 3, strides (12, 1)
        ('row', base[2]),                         # offset 24, shared storage
        ('every_other', base[1:, ::2]),           # strides (12, 2)
        ('scalar', torch.tensor(2.5)),
        ('counter', torch.tensor(7, dtype=torch.long)),
    ])
    torch.save(views, args.out)
    with open(args.expect, 'w') as f:
        json.dump({k: {'shape': list(v.shape), 'data': v.reshape(-1).tolist()} for k, v in views.items()}, f)


class RunsACommand:
    """Pickles as a call to os.system: exactly what a malicious .pth does. Never unpickled here."""
    def __reduce__(self):
        return (os.system, ('echo this would run',))


def save_foreign(args):
    torch.save(collections.OrderedDict([('w', torch.ones(2)), ('payload', RunsACommand())]), args.out)


def save_legacy(args):
    torch.save(collections.OrderedDict([('w', torch.ones(2))]), args.out, _use_new_zipfile_serialization=False)


def course_shortcut(args):
    model = random_model(args.seed)
    block = model.init_conv
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        body = block.conv2(block.conv1(x))
        zero = body / 1.414
        draws = 4000
        total = torch.zeros_like(zero)
        single = None
        for _ in range(draws):
            # the course's line: shortcut = nn.Conv2d(x.shape[1], x2.shape[1], kernel_size=1, stride=1, padding=0)
            shortcut = torch.nn.Conv2d(x.shape[1], body.shape[1], kernel_size=1, stride=1, padding=0)
            out = (shortcut(x) + body) / 1.414
            single = out if single is None else single
            total += out
    mean = total / draws
    with open(args.out, 'w') as f:
        json.dump({'single_draw': (single - zero).abs().max().item(), 'mean_of_draws': (mean - zero).abs().max().item(),
                   'draws': draws}, f)


def save_by_value(args):
    import pickle
    import zipfile
    with zipfile.ZipFile(args.out, 'w') as z:
        z.writestr('m/data.pkl', pickle.dumps(collections.OrderedDict([('w', torch.ones(2))]), protocol=2))


def read_safetensors(path):
    try:
        from safetensors.torch import load_file
        return load_file(path), 'safetensors package'
    except ImportError:
        pass
    import numpy as np
    with open(path, 'rb') as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], 'little')
    header = json.loads(blob[8:8 + n])
    dtypes = {'F32': np.float32, 'I64': np.int64}
    tensors = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        begin, end = e['data_offsets']
        array = np.frombuffer(blob[8 + n + begin:8 + n + end], dtype=dtypes[e['dtype']]).reshape(e['shape'])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, 'numpy + json'


def run_safetensors(args):
    tensors, reader = read_safetensors(args.model)
    w = tensors['init_conv.conv1.0.weight']
    model = ContextUnet(w.shape[1], w.shape[0], tensors['contextembed1.l1.weight'].shape[1], 4 * tensors['up0.0.weight'].shape[2])
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with open(args.io) as f:
        io = json.load(f)
    n, ch, h, _ = io['shape']
    x = torch.tensor(io['x']).reshape(n, ch, h, h)
    with torch.no_grad():
        y = model(x, torch.tensor(io['t']), torch.tensor(io['c']).reshape(n, -1))
    with open(args.out, 'w') as f:
        json.dump({'y': y.reshape(-1).tolist(), 'reader': reader}, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['save-pth', 'save-views', 'save-foreign', 'save-legacy', 'save-by-value', 'course-shortcut', 'run-safetensors'])
    parser.add_argument('--out')
    parser.add_argument('--io')
    parser.add_argument('--expect')
    parser.add_argument('--model')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--nf', type=int, default=64)
    parser.add_argument('--nc', type=int, default=5)
    parser.add_argument('--height', type=int, default=16)
    parser.add_argument('--layout', choices=['reference', 'course'], default='reference')
    args = parser.parse_args()
    torch.set_num_threads(1)
    {'save-pth': save_pth, 'save-views': save_views, 'save-foreign': save_foreign,
     'save-legacy': save_legacy, 'save-by-value': save_by_value, 'course-shortcut': course_shortcut, 'run-safetensors': run_safetensors}[args.command](args)


if __name__ == '__main__':
    main()
