"""What the PyTorch twins under bench/ share: weights in and out as the project writes them, and
the timing loop of their `bench` mode (its JSON line is what `npm run bench` reads)."""
import importlib.util
import json
import os
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', '..', 'shared', 'bench', 'contextunet_torch.py')


def load_module(name, path):
    """A Python file as a module (the shared reference, another twin), or a clear stop when it is missing."""
    if not os.path.exists(path):
        raise SystemExit(f'{path} is missing: ../shared (the shared bench folder) must sit beside the project')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_reference():
    """The shared reference ContextUnet's module (../shared/bench/contextunet_torch.py): its ContextUnet, schedule() and T_STEPS."""
    return load_module('contextunet_torch', REFERENCE)


def count_params(model):
    """Trainable scalars, as the project's parameterCount counts them."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def load_weights(model, path, dtype=torch.float32):
    """The project's weights by state_dict name, flat in PyTorch's layouts; every key must match."""
    with open(path) as f:
        weights = json.load(f)
    state = model.state_dict()
    if set(weights) != set(state):
        raise SystemExit(f'weights do not match the model: missing {sorted(set(state) - set(weights))}, unexpected {sorted(set(weights) - set(state))}')
    for key, entry in weights.items():
        if len(entry['data']) != state[key].numel():
            raise SystemExit(f'{key}: {len(entry["data"])} values for a tensor of shape {list(state[key].shape)}')
        state[key].copy_(torch.tensor(entry['data'], dtype=dtype).view(state[key].shape))


def flat(x):
    """A tensor as a flat list of floats, for JSON."""
    return x.detach().reshape(-1).tolist()


def time_steps(step, warmup, reps):
    """Milliseconds of each of `reps` calls of step(), after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def print_bench(mode, batch, model, times, **extra):
    """The bench mode's one JSON line: the side, what was timed, the machine's threads and the median."""
    print(json.dumps({'side': 'torch', 'mode': mode, 'batch': batch, 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'params': count_params(model), 'times_ms': times, 'median_ms': sorted(times)[len(times) // 2], **extra}))


def twin_parser(doc, modes, inputs_help, batch_default=0, batch_help='data per step'):
    """The command line every twin shares (params | dump | bench, timing and dump options), with its
    bench modes (the first is the default) and what its dump's --inputs file holds; add the rest."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.split('\n\n')[0], epilog=doc[doc.index('Usage:'):],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('cmd', choices=['params', 'dump', 'bench'])
    ap.add_argument('--mode', default=modes[0], choices=modes)
    ap.add_argument('--reps', type=int, default=5, help='timed repetitions')
    ap.add_argument('--warmup', type=int, default=2, help='untimed repetitions first')
    ap.add_argument('--threads', type=int, default=2, help='torch intra-op threads')
    ap.add_argument('--batch', type=int, default=batch_default, help=batch_help)
    ap.add_argument('--weights', help='dump: the project\'s weights (JSON)')
    ap.add_argument('--inputs', help=f'dump: {inputs_help} (JSON)')
    ap.add_argument('--out', help='dump: where to write the results (JSON)')
    ap.add_argument('--dtype', default='float32', choices=['float32', 'float64'],
                    help='dump: float64 computes the same in double precision, to see what float32 itself loses')
    return ap


def run_twin(ap, commands):
    """Parses the command line and runs commands[cmd](args); dump needs its three files."""
    args = ap.parse_args()
    if args.cmd == 'dump' and not (args.weights and args.inputs and args.out):
        ap.error('dump needs --weights, --inputs and --out')
    commands[args.cmd](args)
