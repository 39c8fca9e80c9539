"""PyTorch twin of the project's guided samplers, for `npm run bench` (run with /usr/bin/python3).

Uses the reference ContextUnet of ../shared/bench/contextunet_torch.py unchanged and times whole
DDIM-25 loops of 32 sprites with guidance, on the same terms as the reference's `--mode ddim`:

  cfg-ddim         classifier-free guidance (Ho & Salimans 2022, eq. 6):
                   eps~ = (1 + w) eps(x, t, c) - w eps(x, t, 0), both halves from ONE forward pass
                   on the doubled batch [x; x] with contexts [c; 0].
  classifier-ddim  classifier guidance (Dhariwal & Nichol 2021, Algorithm 2) on the context-free
                   model: eps^ = eps - sqrt(1 - abar_t) s grad_x log p(y | x_t, t), the gradient
                   through the noisy-sprite classifier twin (bench/noisy_classifier_torch.py).

Prints one JSON line like the reference's bench:
  {"side": "torch", "mode": "cfg-ddim", "batch": 32, "steps": 25, "threads": 2, "times_ms": [...], ...}
"""
import argparse
import json
import os
import time

import torch
from twin_tools import HERE, load_module, load_reference



def ddim_update(x, eps, ab, abp):
    """Song et al. 2021 eq. 12 with eta = 0, as the reference's DDIM loop."""
    return abp.sqrt() / ab.sqrt() * (x - (1 - ab).sqrt() * eps) + (1 - abp).sqrt() * eps


def bench(args):
    ref = load_reference()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = ref.ContextUnet().eval()
    _, _, ab_t = ref.schedule()
    T = ref.T_STEPS
    B = args.batch
    _, c = ref.make_batch(B, gen)
    stride = T // args.steps
    ts = list(range(T, 0, -stride))
    w = args.w
    scale = args.scale

    if args.mode == 'cfg-ddim':
        contexts = torch.cat([c, torch.zeros_like(c)])

        def loop():
            with torch.no_grad():
                x = torch.randn(B, 3, 16, 16)
                for i in ts:
                    both = model(torch.cat([x, x]), torch.full((2 * B,), i / T), contexts)
                    eps = (1 + w) * both[:B] - w * both[B:]
                    x = ddim_update(x, eps, ab_t[i], ab_t[max(i - stride, 0)])
            return float(x[0, 0, 0, 0])
    else:
        twin = load_module('noisy_classifier_torch', os.path.join(HERE, 'noisy_classifier_torch.py'))
        classifier = twin.NoisySpriteClassifier().eval()
        labels = torch.randint(0, 5, (B,), generator=gen)
        none = torch.zeros_like(c)

        def loop():
            x = torch.randn(B, 3, 16, 16)
            for i in ts:
                with torch.no_grad():
                    eps = model(x, torch.full((B,), i / T), none)
                xg = x.detach().requires_grad_(True)
                logits = classifier(xg.permute(0, 2, 3, 1), torch.full((B,), i / T))
                picked = torch.log_softmax(logits, 1)[torch.arange(B), labels].sum()
                (grad,) = torch.autograd.grad(picked, xg)
                with torch.no_grad():
                    eps = eps - (1 - ab_t[i]).sqrt() * scale * grad
                    x = ddim_update(x, eps, ab_t[i], ab_t[max(i - stride, 0)])
            return float(x[0, 0, 0, 0])

    for _ in range(args.warmup):
        loop()
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        loop()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'side': 'torch', 'mode': args.mode, 'batch': B, 'steps': args.steps, 'threads': torch.get_num_threads(),
                      'torch': torch.__version__, 'times_ms': times, 'median_ms': sorted(times)[len(times) // 2]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('command', choices=['bench'])
    ap.add_argument('--mode', default='cfg-ddim', choices=['cfg-ddim', 'classifier-ddim'])
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--w', type=float, default=2.0, help='cfg-ddim: guidance weight')
    ap.add_argument('--scale', type=float, default=3.0, help='classifier-ddim: guidance scale s')
    bench(ap.parse_args())


if __name__ == '__main__':
    main()
