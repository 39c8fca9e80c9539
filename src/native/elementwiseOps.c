/*
 * Activation functions and their gradients, one pass over memory each (tfjs-core's composites take
 * five forward and seven backward kernels for GELU, two and about six for SiLU), float32:
 *
 *   SpriteGelu(x) -> y            y  = x Phi(x),              Phi(x) = (1 + erf(x / sqrt 2)) / 2
 *   SpriteGeluGrad(dy, x) -> dx   dx = dy (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
 *   SpriteSilu(x) -> y            y  = x s(x),                s(x) = 1 / (1 + exp(-x))
 *   SpriteSiluGrad(dy, x) -> dx   dx = dy s(x) (1 + x (1 - s(x)))
 *
 * GELU in its exact form (Hendrycks & Gimpel 2016, section 2; PyTorch's nn.GELU()), SiLU as
 * Elfwing et al. 2018 (PyTorch's nn.SiLU). erf and exp are the rational / polynomial
 * approximations below, written so that gcc vectorises the loops (no libm calls): erf within 5e-7
 * of float64 erf, exp within 1e-7 relative (test/perf/fusedOps.test.ts checks the ops against
 * float64 recomputation).
 */
#include "fusedOps.h"

/*
 * erf(x) as odd / even polynomials in x: x P(x^2) / Q(x^2) on [-4, 4] (erf(4) = 1 in float32),
 * the rational minimax fit Eigen uses for float erf (Eigen 3.4, generic_fast_erf_float).
 */
static inline float erf_rational(float a) {
  const float x = a > 4.f ? 4.f : (a < -4.f ? -4.f : a);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}

/*
 * exp(t) for t <= 0: t = n ln 2 + r with |r| <= ln 2 / 2, e^r by Cephes' expf polynomial, times
 * 2^n written into the exponent bits. t is clamped at -87 (e^-87 ~ 1.6e-38, still a normal float).
 */
static inline float exp_nonpositive(float t) {
  t = t < -87.f ? -87.f : t;
  const float n = __builtin_floorf(t * 1.44269504088896341f + 0.5f);
  const float r = (t - n * 0.693359375f) + n * 2.12194440e-4f; /* ln 2 in two parts */
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r * r + r + 1.f;
  const union { int32_t bits; float value; } scale = {((int32_t)n + 127) << 23};
  return er * scale.value;
}

/* s(x) = 1 / (1 + e^-x) from e^-|x| <= 1, so that no exp overflows. */
static inline float sigmoid(float x) {
  const float e = exp_nonpositive(x < 0.f ? x : -x);
  return (x < 0.f ? e : 1.f) / (1.f + e);
}

#define SQRT1_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

typedef struct {
  const float* a; /* x (forward) or dy (gradient) */
  const float* b; /* x (gradient) */
  float* out;
} Pass;

static void gelu_range(void* context, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const Pass* p = context;
  const float* restrict x = p->a;
  float* restrict y = p->out;
  for (int64_t i = begin; i < end; ++i) y[i] = x[i] * (0.5f + 0.5f * erf_rational(x[i] * SQRT1_2));
}

static void gelu_grad_range(void* context, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const Pass* p = context;
  const float* restrict dy = p->a;
  const float* restrict x = p->b;
  float* restrict dx = p->out;
  for (int64_t i = begin; i < end; ++i) {
    const float v = x[i];
    const float cdf = 0.5f + 0.5f * erf_rational(v * SQRT1_2);
    const float density = INV_SQRT_2PI * exp_nonpositive(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * density);
  }
}

static void silu_range(void* context, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const Pass* p = context;
  const float* restrict x = p->a;
  float* restrict y = p->out;
  for (int64_t i = begin; i < end; ++i) y[i] = x[i] * sigmoid(x[i]);
}

static void silu_grad_range(void* context, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const Pass* p = context;
  const float* restrict dy = p->a;
  const float* restrict x = p->b;
  float* restrict dx = p->out;
  for (int64_t i = begin; i < end; ++i) {
    const float s = sigmoid(x[i]);
    dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
  }
}

/* y = f(x), elementwise. */
static void unary_compute(TF_OpKernelContext* ctx, void (*range)(void*, int64_t, int64_t, int)) {
  TF_Status* status = TF_NewStatus();
  TF_Tensor* x = float_input(ctx, 0, status);
  TF_Tensor* y = x ? float_output_like(ctx, 0, x, status) : NULL;
  if (y) {
    Pass pass = {TF_TensorData(x), NULL, TF_TensorData(y)};
    /* Ranges on multiples of 16 floats (64 bytes): threads never share a cache line. */
    parallel_for(TF_TensorElementCount(x), 1, 16, thread_budget(), range, &pass);
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  if (x) TF_DeleteTensor(x);
  if (y) TF_DeleteTensor(y);
  TF_DeleteStatus(status);
}

/* dx = dy f'(x), elementwise. */
static void gradient_compute(TF_OpKernelContext* ctx, void (*range)(void*, int64_t, int64_t, int)) {
  TF_Status* status = TF_NewStatus();
  TF_Tensor* dy = float_input(ctx, 0, status);
  TF_Tensor* x = dy ? float_input(ctx, 1, status) : NULL;
  TF_Tensor* dx = NULL;
  if (x && TF_TensorElementCount(x) != TF_TensorElementCount(dy)) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "an activation's gradient op: dy and x differ in size");
  } else if (x) {
    dx = float_output_like(ctx, 0, x, status);
  }
  if (dx) {
    Pass pass = {TF_TensorData(dy), TF_TensorData(x), TF_TensorData(dx)};
    parallel_for(TF_TensorElementCount(x), 1, 16, thread_budget(), range, &pass);
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  if (dy) TF_DeleteTensor(dy);
  if (x) TF_DeleteTensor(x);
  if (dx) TF_DeleteTensor(dx);
  TF_DeleteStatus(status);
}

static void gelu_compute(void* state, TF_OpKernelContext* ctx) { (void)state; unary_compute(ctx, gelu_range); }
static void gelu_grad_compute(void* state, TF_OpKernelContext* ctx) { (void)state; gradient_compute(ctx, gelu_grad_range); }
static void silu_compute(void* state, TF_OpKernelContext* ctx) { (void)state; unary_compute(ctx, silu_range); }
static void silu_grad_compute(void* state, TF_OpKernelContext* ctx) { (void)state; gradient_compute(ctx, silu_grad_range); }

const FusedOp ELEMENTWISE_OPS[] = {
    {"SpriteGelu", {"x: float"}, {"y: float"}, {NULL}, no_state, gelu_compute, no_delete},
    {"SpriteGeluGrad", {"dy: float", "x: float"}, {"dx: float"}, {NULL}, no_state, gelu_grad_compute, no_delete},
    {"SpriteSilu", {"x: float"}, {"y: float"}, {NULL}, no_state, silu_compute, no_delete},
    {"SpriteSiluGrad", {"dy: float", "x: float"}, {"dx: float"}, {NULL}, no_state, silu_grad_compute, no_delete},
};
const int ELEMENTWISE_OP_COUNT = sizeof ELEMENTWISE_OPS / sizeof ELEMENTWISE_OPS[0];
