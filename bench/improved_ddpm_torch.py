#!/usr/bin/python3
"""PyTorch twin of the project's improved-DDPM pieces (Nichol & Dhariwal 2021), written from
openai/improved-diffusion's gaussian_diffusion.py, losses.py and respace.py, in float32 on tensors
and float64 for the schedule's arrays (as theirs), for the parity test and `npm run bench`.

  model     the reference ContextUnet of ../shared/bench/contextunet_torch.py, unchanged except
            its last conv out.3 (Conv3x3 n_feat -> 2C, PyTorch's default init): eps in channels
            0..C-1, the raw r of a learned variance in C..2C-1, as src/lib/model/contextUnet.ts
            with outChannels = 6 (1,482,758 trainable parameters).
  schedule  cosine (eq. 17), T = 500, s = 0.008, beta <= 0.999.
  loss      hybrid (Sec. 3.1): mean squared eps error per image + T / 1000 times the bound's term
            L_{t-1} (KL, t >= 2) or L_0 (discretized decoder, t = 1) in bits/dim, with the mean
            frozen (eps detached) so that the bound trains only the variance.
  sampling  one step of DDPM on a respaced chain (Sec. 4) with the learned variance (eq. 15).

Departures from their code, each the project's own choice (the parity test compares the two):
  - the decoder's normal CDF is exact, Phi(x) = (1 + erf(x / sqrt 2)) / 2 (theirs: a tanh
    approximation); `dump` also reports the decoder terms with theirs, for comparison;
  - steps are t = 1..T (their index t - 1), the model sees t / T (theirs: the index, or 1000 t / T);
  - sampling clips x0^ to [-1, 1] as their p_sample_loop's clip_denoised=True does (the
    library's default on the cosine schedule); the likelihood terms leave it unclipped;
  - the respaced chain keeps t = T, T - k, ..., k (k = T / steps), as the library's stridedPlan,
    which their SpacedDiffusion takes as use_timesteps = {k-1, 2k-1, ..., T-1}.

Usage:
  /usr/bin/python3 bench/improved_ddpm_torch.py params
  /usr/bin/python3 bench/improved_ddpm_torch.py dump --weights W.json --inputs I.json --out IO.json [--threads 1] [--dtype float64]
  /usr/bin/python3 bench/improved_ddpm_torch.py bench --mode hybrid-train|learned-sample --reps 5 [--warmup 2] [--threads 2]

dump takes the project's weights (state_dict names, PyTorch layouts, flat) and inputs (x0, noise,
xT, z in NCHW; t; contexts) and writes the 6-channel outputs (inference and training mode), the
per-image MSE and bound terms, the hybrid loss, every parameter's gradient (of the hybrid loss, and
of the same loss with the t = 1 images weighted 0), and one learned-variance respaced step from xT. bench times one hybrid-loss training step (batch 100: forward, loss,
backward, Adam) or one learned-variance respaced DDPM step (batch 32, t = 250 of a 50-step chain,
clamped to +-5 as the reference's sample mode), and prints one JSON line like the reference's:
  {"side": "torch", "mode": "hybrid-train", "batch": 100, "threads": 2, "torch": "...", "params": 1482758, "times_ms": [...], ...}
Runs on Debian's python3-torch 1.13 (apt-get install -y python3-torch; /usr/bin/python3, as the parity tests run it)
and on PyPI's torch 2.15 (.venv-torch/bin/python, as npm run bench runs it: scripts/bench-torch-venv.sh).
"""
import json
import math
import sys

import torch
import torch.nn as nn
from twin_tools import count_params, load_reference, print_bench, run_twin, time_steps, twin_parser

IN_CHANNELS = 3
EXPECTED_PARAMS = 1482758  # the reference's 1,481,027 + out.3 widened from 3 to 6 outputs (64 * 9 * 3 + 3)
T_STEPS = 500
SAMPLE_STEPS = 50  # the respaced chain of the learned-sample bench: 50 of 500 steps
SAMPLE_T = 250


ref = load_reference()


def learned_variance_unet():
    """The reference ContextUnet with out.3 giving 2C channels: eps and the raw r of eq. 15."""
    model = ref.ContextUnet()
    model.out[3] = nn.Conv2d(model.nf, 2 * IN_CHANNELS, 3, 1, 1)
    return model


def cosine_betas(T, s=0.008, max_beta=0.999):
    """Nichol & Dhariwal 2021, eq. 17 (their betas_for_alpha_bar): alphaBar(u) = cos(((u + s) / (1 + s)) pi / 2)^2,
    beta_i = min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), max_beta), i = t - 1 = 0..T-1."""
    alpha_bar = lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return torch.tensor([min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), max_beta) for i in range(T)], dtype=torch.float64)


class Diffusion:
    """Their GaussianDiffusion for eps prediction with a LEARNED_RANGE variance: float64 arrays over
    the chain's steps i = 0..K-1, read per image as float32 (their _extract_into_tensor; `dtype`
    float64 only for dump --dtype float64)."""

    def __init__(self, betas, dtype=torch.float32):
        self.dtype = dtype
        self.betas = betas
        self.num_timesteps = len(betas)
        alphas = 1 - betas
        self.alphas_cumprod = torch.cumprod(alphas, 0)  # alphaBar_t (Ho et al. 2020, eq. 4)
        self.alphas_cumprod_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.sqrt_one_minus_alphas_cumprod = (1 - self.alphas_cumprod).sqrt()
        # 1 / sqrt(alphaBar_t) and sqrt(1 / alphaBar_t - 1): x0^ from eps^ (Ho et al. 2020, eq. 15)
        self.sqrt_recip_alphas_cumprod = (1 / self.alphas_cumprod).sqrt()
        self.sqrt_recipm1_alphas_cumprod = (1 / self.alphas_cumprod - 1).sqrt()
        # q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eqs. 6-7): betaTilde and the mean's two coefficients.
        self.posterior_variance = betas * (1 - self.alphas_cumprod_prev) / (1 - self.alphas_cumprod)
        # betaTilde is 0 at the first step: its log takes the next step's value (their _clipped).
        self.posterior_log_variance_clipped = torch.cat([self.posterior_variance[1:2], self.posterior_variance[1:]]).log()
        self.posterior_mean_coef1 = betas * self.alphas_cumprod_prev.sqrt() / (1 - self.alphas_cumprod)
        self.posterior_mean_coef2 = (1 - self.alphas_cumprod_prev) * alphas.sqrt() / (1 - self.alphas_cumprod)
        self.log_betas = betas.log()  # the upper end of the learned log-variance (Nichol & Dhariwal 2021, eq. 15)

    def extract(self, array, i):
        return array[i].to(self.dtype).view(-1, 1, 1, 1)

    def q_sample(self, x0, i, noise):
        """x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps (Ho et al. 2020, eq. 4)."""
        return self.extract(self.sqrt_alphas_cumprod, i) * x0 + self.extract(self.sqrt_one_minus_alphas_cumprod, i) * noise

    def q_posterior_mean(self, x0, xt, i):
        """mu~_t(x_t, x_0) = coef1 x_0 + coef2 x_t (Ho et al. 2020, eq. 7)."""
        return self.extract(self.posterior_mean_coef1, i) * x0 + self.extract(self.posterior_mean_coef2, i) * xt

    def p_mean_variance(self, output, xt, i, clip_denoised=False):
        """The model's Gaussian p(x_{t-1} | x_t): mean at x0^ (Ho et al. 2020, eqs. 7 and 15; x0^ clipped to [-1, 1] on request)
        and log Sigma = v log beta_t + (1 - v) log betaTilde_t, v = (r + 1) / 2 (Nichol & Dhariwal, eq. 15)."""
        eps, raw = output.split(IN_CHANNELS, dim=1)
        v = (raw + 1) / 2
        log_variance = v * self.extract(self.log_betas, i) + (1 - v) * self.extract(self.posterior_log_variance_clipped, i)
        # x0^ = x_t / sqrt(alphaBar_t) - sqrt(1 / alphaBar_t - 1) eps^ (Ho et al. 2020, eq. 15 solved for x_0)
        pred_x0 = self.extract(self.sqrt_recip_alphas_cumprod, i) * xt - self.extract(self.sqrt_recipm1_alphas_cumprod, i) * eps
        if clip_denoised:
            pred_x0 = pred_x0.clamp(-1, 1)
        return self.q_posterior_mean(pred_x0, xt, i), log_variance

    def vb_terms_bpd(self, output, x0, xt, i):
        """L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) for t >= 2, L_0 = -log p(x_0 | x_1) for t = 1
        (Nichol & Dhariwal 2021, eqs. 4-6), mean over pixels in bits (their _vb_terms_bpd); [N]."""
        true_mean = self.q_posterior_mean(x0, xt, i)
        true_log_variance = self.extract(self.posterior_log_variance_clipped, i)
        mean, log_variance = self.p_mean_variance(output, xt, i)
        kl = mean_flat(normal_kl(true_mean, true_log_variance, mean, log_variance)) / math.log(2.0)
        decoder_nll = -mean_flat(discretized_gaussian_log_likelihood(x0, mean, 0.5 * log_variance)) / math.log(2.0)
        return torch.where(i == 0, decoder_nll, kl)

    def hybrid_losses(self, model, x0, i, noise, context, t_fraction):
        """L_hybrid = L_simple + lambda L_vlb, lambda = 0.001 (Nichol & Dhariwal 2021, eq. 16, Sec. 3.1), per image: their
        training_losses with RESCALED_MSE: mse + vb * T / 1000, the mean frozen inside vb."""
        xt = self.q_sample(x0, i, noise)
        output = model(xt, t_fraction, context)
        eps = output[:, :IN_CHANNELS]
        frozen = torch.cat([eps.detach(), output[:, IN_CHANNELS:]], dim=1)  # stop-gradient on the mean (Sec. 3.1)
        vb = self.vb_terms_bpd(frozen, x0, xt, i)
        mse = mean_flat((noise - eps) ** 2)  # L_simple (Ho et al. 2020, eq. 14)
        return {'output': output, 'mse': mse, 'vb': vb, 'loss': mse + vb * self.num_timesteps / 1000.0}

    def p_sample(self, output, xt, i, z, clip_denoised=True):
        """x_{t-1} = mean + exp(log Sigma / 2) z, no noise on the step into x_0 (Ho et al. 2020, Algorithm 2)."""
        mean, log_variance = self.p_mean_variance(output, xt, i, clip_denoised)
        nonzero = (i != 0).to(self.dtype).view(-1, 1, 1, 1)
        return mean + nonzero * (0.5 * log_variance).exp() * z


def respaced(base, use_timesteps):
    """Their SpacedDiffusion (Nichol & Dhariwal 2021, Sec. 4): the kept steps' alphaBar, with
    beta'_k = 1 - alphaBar_k / alphaBar_{previous kept}; the chain's step k is the base's step kept[k]."""
    kept = sorted(use_timesteps)
    betas, last = [], 1.0
    for i in kept:
        betas.append(1 - base.alphas_cumprod[i].item() / last)
        last = base.alphas_cumprod[i].item()
    return Diffusion(torch.tensor(betas, dtype=torch.float64), base.dtype), kept


def mean_flat(x):
    return x.mean(dim=list(range(1, x.dim())))


def normal_kl(mean1, logvar1, mean2, logvar2):
    """KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) per element, in nats: the closed form that
    makes L_{t-1} (Nichol & Dhariwal 2021, eq. 6; Ho et al. 2020, eq. 5) exact (their losses.normal_kl)."""
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def standard_normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, exact, as the library (theirs: approx_standard_normal_cdf)."""
    return 0.5 * (1.0 + torch.erf(x * math.sqrt(0.5)))


def approx_standard_normal_cdf(x):
    """Their tanh approximation of Phi (losses.approx_standard_normal_cdf), for comparison only."""
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def discretized_gaussian_log_likelihood(x, means, log_scales, cdf=standard_normal_cdf):
    """log of N(means, exp(log_scales)^2)'s mass on x's bin of width 2/255 on [-1, 1], the outer bins
    open-ended (Ho et al. 2020, eq. 13; their losses.discretized_gaussian_log_likelihood)."""
    centered_x = x - means
    inv_stdv = torch.exp(-log_scales)
    cdf_plus = cdf(inv_stdv * (centered_x + 1.0 / 255.0))
    cdf_min = cdf(inv_stdv * (centered_x - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    cdf_delta = cdf_plus - cdf_min
    return torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, torch.log(cdf_delta.clamp(min=1e-12))))


def params_cmd(args):
    n = count_params(learned_variance_unet())
    print(json.dumps({'params': n, 'expected': EXPECTED_PARAMS, 'ok': n == EXPECTED_PARAMS}))
    if n != EXPECTED_PARAMS:
        sys.exit('parameter count %d != expected %d' % (n, EXPECTED_PARAMS))


def load_weights(model, path):
    """The project's weights by state_dict name, flat in PyTorch's layouts; every key must match."""
    with open(path) as f:
        weights = json.load(f)
    state = model.state_dict()
    expected = {k for k in state if not k.endswith('num_batches_tracked')}
    if set(weights) != expected:
        raise SystemExit(f'weights do not match the model: missing {sorted(expected - set(weights))}, unexpected {sorted(set(weights) - expected)}')
    for key, entry in weights.items():
        if len(entry['data']) != state[key].numel():
            raise SystemExit(f'{key}: {len(entry["data"])} values for a tensor of shape {list(state[key].shape)}')
        state[key].copy_(torch.tensor(entry['data'], dtype=torch.float32).view(state[key].shape))


def flat(x):
    return x.detach().reshape(-1).tolist()


def dump(args):
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    model = learned_variance_unet()
    load_weights(model, args.weights)
    model.to(dtype)
    with open(args.inputs) as f:
        inputs = json.load(f)
    T = inputs['T']
    diffusion = Diffusion(cosine_betas(T), dtype)
    n = len(inputs['t'])
    image = lambda key: torch.tensor(inputs[key], dtype=torch.float32).to(dtype).view(n, IN_CHANNELS, 16, 16)
    x0, noise, x_T, z = image('x0'), image('noise'), image('xT'), image('z')
    context = torch.tensor(inputs['c'], dtype=torch.float32).to(dtype).view(n, -1)
    t = torch.tensor(inputs['t'], dtype=torch.long)
    i = t - 1
    t_fraction = t.to(dtype) / T
    xt = diffusion.q_sample(x0, i, noise)

    model.eval()
    with torch.no_grad():
        out_eval = model(xt, t_fraction, context)
        # One learned-variance step of the respaced chain from x_T, at its first step (t = T).
        stride = T // inputs['sample_steps']
        chain, kept = respaced(diffusion, range(stride - 1, T, stride))
        k = torch.full((n,), len(kept) - 1, dtype=torch.long)
        x_prev = chain.p_sample(model(x_T, torch.full((n,), kept[-1] + 1, dtype=dtype) / T, context), x_T, k, z)
    model.train()
    # The hybrid loss's gradient without the t = 1 images (weighted 0 as their importance weights
    # would be), then with every image: the decoder's gradient is the part most sensitive to erf.
    model.zero_grad()
    without_decoder = (t != 1).to(dtype)
    (diffusion.hybrid_losses(model, x0, i, noise, context, t_fraction)['loss'] * without_decoder).mean().backward()
    grads_without_decoder = {k: flat(p.grad) for k, p in model.named_parameters()}
    model.zero_grad()
    terms = diffusion.hybrid_losses(model, x0, i, noise, context, t_fraction)
    loss = terms['loss'].mean()
    loss.backward()
    with torch.no_grad():
        mean, log_variance = diffusion.p_mean_variance(terms['output'], xt, i)
        decoder_tanh = -mean_flat(discretized_gaussian_log_likelihood(x0, mean, 0.5 * log_variance, approx_standard_normal_cdf)) / math.log(2.0)
    io = {'out_eval': flat(out_eval), 'out_train': flat(terms['output']), 'mse': flat(terms['mse']), 'vb': flat(terms['vb']),
          'loss': loss.item(), 'x_prev': flat(x_prev), 'sample_t': kept[-1] + 1, 'sample_t_prev': kept[-2] + 1,
          'decoder_bits_tanh_cdf': flat(decoder_tanh),
          'grads': {k: flat(p.grad) for k, p in model.named_parameters()}, 'grads_without_decoder': grads_without_decoder, 'params': count_params(model), 'torch': torch.__version__}
    with open(args.out, 'w') as f:
        json.dump(io, f)
    print(json.dumps({'loss': io['loss'], 'params': io['params'], 'out': args.out}))


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = learned_variance_unet()
    diffusion = Diffusion(cosine_betas(T_STEPS))
    if args.mode == 'hybrid-train':
        B = args.batch or 100
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        x, c = ref.make_batch(B, gen)

        def step():
            opt.zero_grad()
            t = torch.randint(1, T_STEPS + 1, (B,))
            loss = diffusion.hybrid_losses(model, x, t - 1, torch.randn_like(x), c, t.float() / T_STEPS)['loss'].mean()
            loss.backward()
            opt.step()
            return loss.item()
    else:
        B = args.batch or 32
        model.eval()
        _, c = ref.make_batch(B, gen)
        stride = T_STEPS // SAMPLE_STEPS
        chain, kept = respaced(diffusion, range(stride - 1, T_STEPS, stride))
        k = torch.full((B,), kept.index(SAMPLE_T - 1), dtype=torch.long)
        state = {'x': torch.randn(B, 3, 16, 16)}

        def step():
            with torch.no_grad():
                output = model(state['x'], torch.full((B,), SAMPLE_T / T_STEPS), c)
                x = chain.p_sample(output, state['x'], k, torch.randn_like(state['x']))
                state['x'] = x.clamp(-5, 5)  # keep values bounded across repeated steps, as the reference
            return float(x[0, 0, 0, 0])
    times = time_steps(step, args.warmup, args.reps)
    print_bench(args.mode, B, model, times)


def main():
    ap = twin_parser(__doc__, ['hybrid-train', 'learned-sample'], 'x0, noise, t, c, xT, z', 0, '0 = 100 for hybrid-train, 32 for learned-sample')
    run_twin(ap, {'params': params_cmd, 'dump': dump, 'bench': bench})


if __name__ == '__main__':
    main()
