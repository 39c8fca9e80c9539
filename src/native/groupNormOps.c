/*
 * GroupNorm (Wu & He 2018, eq. 1-3) on channels-last float32 tensors, forward and backward in two
 * passes each over memory (tfjs-core's composite takes about nine kernels forward and twenty back):
 *
 *   SpriteGroupNorm(x [N, ..., C], gamma [C], beta [C]; groups G, epsilon)
 *       -> y = (x - mu) r gamma + beta,  mu [N, G],  r = 1 / sqrt(var + epsilon) [N, G]
 *   SpriteGroupNormGrad(dy, x, gamma, mu, r; groups G)  -> dx, dgamma [C], dbeta [C]
 *
 * mu and var (biased, as PyTorch's nn.GroupNorm) per sample and group of C / G channels, over the
 * M = (H W ...) C / G values of the group; accumulated in double. With xhat = (x - mu) r and
 * g = dy gamma, the gradient is
 *   dx = r (g - mean(g) - xhat mean(g xhat)),  means over the group,
 *   dgamma = sum over N, H, W of dy xhat,  dbeta = sum of dy,
 * written as dx = a_c dy + b_c x + c_c with a_c = r gamma_c, b_c = -r^2 mean(g xhat),
 * c_c = r^2 mu mean(g xhat) - r mean(g), so that both passes vectorise over channels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fusedOps.h"

typedef struct {
  int32_t groups;
  float epsilon;
} GroupNormAttrs;

static void* read_attrs(TF_OpKernelConstruction* construction, int with_epsilon) {
  GroupNormAttrs* attrs = calloc(1, sizeof *attrs);
  TF_Status* status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrInt32(construction, "groups", &attrs->groups, status);
  if (TF_GetCode(status) == TF_OK && with_epsilon) TF_OpKernelConstruction_GetAttrFloat(construction, "epsilon", &attrs->epsilon, status);
  if (TF_GetCode(status) == TF_OK && attrs->groups < 1) TF_SetStatus(status, TF_INVALID_ARGUMENT, "SpriteGroupNorm: groups must be >= 1");
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(construction, status);
  TF_DeleteStatus(status);
  return attrs;
}

static void* forward_attrs(TF_OpKernelConstruction* construction) { return read_attrs(construction, 1); }
static void* gradient_attrs(TF_OpKernelConstruction* construction) { return read_attrs(construction, 0); }

/* The layout of x: N samples of P positions of C channels in G groups; 0 with `status` set if wrong. */
typedef struct {
  int64_t n, positions, channels, groups;
} Layout;

static int layout_of(const TF_Tensor* x, const TF_Tensor* gamma, int32_t groups, Layout* layout, TF_Status* status) {
  const int rank = TF_NumDims(x);
  if (rank < 2) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SpriteGroupNorm: x must be [N, ..., C]");
    return 0;
  }
  layout->n = TF_Dim(x, 0);
  layout->channels = TF_Dim(x, rank - 1);
  layout->positions = 1;
  for (int d = 1; d < rank - 1; ++d) layout->positions *= TF_Dim(x, d);
  layout->groups = groups;
  if (layout->channels % groups != 0) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SpriteGroupNorm: the channels are not divisible by groups");
    return 0;
  }
  if (TF_TensorElementCount(gamma) != layout->channels) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SpriteGroupNorm: gamma (and beta) must have x's channel count");
    return 0;
  }
  return 1;
}

/* ---- forward ------------------------------------------------------------------------------------- */

typedef struct {
  Layout layout;
  double epsilon;
  const float *x, *gamma, *beta;
  float *y, *mean, *rstd;
} Forward;

static void forward_samples(void* context, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const Forward* f = context;
  const int64_t P = f->layout.positions, C = f->layout.channels, G = f->layout.groups, per_group = C / G;
  double* sums = malloc(sizeof(double) * 2 * C);
  float* scale = malloc(sizeof(float) * 2 * C);
  double* restrict s1 = sums;
  double* restrict s2 = sums + C;
  float* restrict a = scale;
  float* restrict b = scale + C;
  for (int64_t n = begin; n < end; ++n) {
    const float* restrict x = f->x + n * P * C;
    float* restrict y = f->y + n * P * C;
    memset(sums, 0, sizeof(double) * 2 * C);
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t c = 0; c < C; ++c) {
        const double v = x[p * C + c];
        s1[c] += v;
        s2[c] += v * v;
      }
    }
    for (int64_t g = 0; g < G; ++g) {
      double sum = 0, square = 0;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) sum += s1[c], square += s2[c];
      const double count = (double)(P * per_group);
      const double mu = sum / count;
      const double variance = fmax(square / count - mu * mu, 0.0);
      const double r = 1.0 / sqrt(variance + f->epsilon);
      f->mean[n * G + g] = (float)mu;
      f->rstd[n * G + g] = (float)r;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        a[c] = (float)(r * f->gamma[c]);
        b[c] = (float)(f->beta[c] - mu * r * f->gamma[c]);
      }
    }
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c) y[p * C + c] = x[p * C + c] * a[c] + b[c];
  }
  free(sums);
  free(scale);
}

static void forward_compute(void* state, TF_OpKernelContext* ctx) {
  const GroupNormAttrs* attrs = state;
  TF_Status* status = TF_NewStatus();
  TF_Tensor* inputs[3] = {NULL, NULL, NULL};
  TF_Tensor* outputs[3] = {NULL, NULL, NULL};
  Layout layout;
  int ok = 1;
  for (int i = 0; i < 3 && ok; ++i) ok = (inputs[i] = float_input(ctx, i, status)) != NULL;
  ok = ok && layout_of(inputs[0], inputs[1], attrs->groups, &layout, status);
  if (ok && TF_TensorElementCount(inputs[2]) != layout.channels) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SpriteGroupNorm: beta must have x's channel count");
    ok = 0;
  }
  const int64_t statistics[2] = {ok ? layout.n : 0, attrs->groups};
  ok = ok && (outputs[0] = float_output_like(ctx, 0, inputs[0], status)) != NULL;
  ok = ok && (outputs[1] = float_output(ctx, 1, statistics, 2, status)) != NULL;
  ok = ok && (outputs[2] = float_output(ctx, 2, statistics, 2, status)) != NULL;
  if (ok) {
    Forward f = {layout, attrs->epsilon, TF_TensorData(inputs[0]), TF_TensorData(inputs[1]), TF_TensorData(inputs[2]),
                 TF_TensorData(outputs[0]), TF_TensorData(outputs[1]), TF_TensorData(outputs[2])};
    parallel_for(layout.n, layout.positions * layout.channels, 1, thread_budget(), forward_samples, &f);
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  for (int i = 0; i < 3; ++i) {
    if (inputs[i]) TF_DeleteTensor(inputs[i]);
    if (outputs[i]) TF_DeleteTensor(outputs[i]);
  }
  TF_DeleteStatus(status);
}

/* ---- backward ------------------------------------------------------------------------------------ */

typedef struct {
  Layout layout;
  const float *dy, *x, *gamma, *mean, *rstd;
  float* dx;
  double* partials; /* per thread: dgamma [C] then dbeta [C] */
} Backward;

static void backward_samples(void* context, int64_t begin, int64_t end, int thread) {
  const Backward* f = context;
  const int64_t P = f->layout.positions, C = f->layout.channels, G = f->layout.groups, per_group = C / G;
  double* restrict dgamma = f->partials + (int64_t)thread * 2 * C;
  double* restrict dbeta = dgamma + C;
  double* sums = malloc(sizeof(double) * 2 * C);
  float* coefficients = malloc(sizeof(float) * 3 * C);
  double* restrict sum_dy = sums;
  double* restrict sum_dy_x = sums + C;
  float* restrict a = coefficients;
  float* restrict b = coefficients + C;
  float* restrict k = coefficients + 2 * C;
  for (int64_t n = begin; n < end; ++n) {
    const float* restrict dy = f->dy + n * P * C;
    const float* restrict x = f->x + n * P * C;
    float* restrict dx = f->dx + n * P * C;
    memset(sums, 0, sizeof(double) * 2 * C);
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t c = 0; c < C; ++c) {
        const double d = dy[p * C + c];
        sum_dy[c] += d;
        sum_dy_x[c] += d * x[p * C + c];
      }
    }
    for (int64_t g = 0; g < G; ++g) {
      const double mu = f->mean[n * G + g], r = f->rstd[n * G + g];
      double mean_g = 0, mean_g_xhat = 0;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        const double dy_xhat = r * (sum_dy_x[c] - mu * sum_dy[c]); /* sum over positions of dy xhat */
        dgamma[c] += dy_xhat;
        dbeta[c] += sum_dy[c];
        mean_g += f->gamma[c] * sum_dy[c];
        mean_g_xhat += f->gamma[c] * dy_xhat;
      }
      const double count = (double)(P * per_group);
      mean_g /= count;
      mean_g_xhat /= count;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        a[c] = (float)(r * f->gamma[c]);
        b[c] = (float)(-r * r * mean_g_xhat);
        k[c] = (float)(r * r * mu * mean_g_xhat - r * mean_g);
      }
    }
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c) dx[p * C + c] = a[c] * dy[p * C + c] + b[c] * x[p * C + c] + k[c];
  }
  free(sums);
  free(coefficients);
}

static void backward_compute(void* state, TF_OpKernelContext* ctx) {
  const GroupNormAttrs* attrs = state;
  TF_Status* status = TF_NewStatus();
  TF_Tensor* inputs[5] = {NULL, NULL, NULL, NULL, NULL};
  TF_Tensor* outputs[3] = {NULL, NULL, NULL};
  Layout layout;
  int ok = 1;
  for (int i = 0; i < 5 && ok; ++i) ok = (inputs[i] = float_input(ctx, i, status)) != NULL;
  ok = ok && layout_of(inputs[1], inputs[2], attrs->groups, &layout, status);
  if (ok && (TF_TensorElementCount(inputs[0]) != TF_TensorElementCount(inputs[1]) ||
             TF_TensorElementCount(inputs[3]) != layout.n * layout.groups ||
             TF_TensorElementCount(inputs[4]) != layout.n * layout.groups)) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SpriteGroupNormGrad: dy must be x's size, mean and rstd [N, groups]");
    ok = 0;
  }
  const int64_t channels[1] = {ok ? layout.channels : 0};
  ok = ok && (outputs[0] = float_output_like(ctx, 0, inputs[1], status)) != NULL;
  ok = ok && (outputs[1] = float_output(ctx, 1, channels, 1, status)) != NULL;
  ok = ok && (outputs[2] = float_output(ctx, 2, channels, 1, status)) != NULL;
  if (ok) {
    const int threads = thread_budget();
    double* partials = calloc((size_t)threads * 2 * layout.channels, sizeof(double));
    Backward f = {layout, TF_TensorData(inputs[0]), TF_TensorData(inputs[1]), TF_TensorData(inputs[2]),
                  TF_TensorData(inputs[3]), TF_TensorData(inputs[4]), TF_TensorData(outputs[0]), partials};
    const int used = parallel_for(layout.n, layout.positions * layout.channels, 1, threads, backward_samples, &f);
    float* dgamma = TF_TensorData(outputs[1]);
    float* dbeta = TF_TensorData(outputs[2]);
    for (int64_t c = 0; c < layout.channels; ++c) {
      double sum_gamma = 0, sum_beta = 0;
      for (int t = 0; t < used; ++t) sum_gamma += partials[t * 2 * layout.channels + c], sum_beta += partials[(t * 2 + 1) * layout.channels + c];
      dgamma[c] = (float)sum_gamma;
      dbeta[c] = (float)sum_beta;
    }
    free(partials);
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  for (int i = 0; i < 5; ++i)
    if (inputs[i]) TF_DeleteTensor(inputs[i]);
  for (int i = 0; i < 3; ++i)
    if (outputs[i]) TF_DeleteTensor(outputs[i]);
  TF_DeleteStatus(status);
}

const FusedOp GROUP_NORM_OPS[] = {
    {"SpriteGroupNorm", {"x: float", "gamma: float", "beta: float"}, {"y: float", "mean: float", "rstd: float"},
     {"groups: int", "epsilon: float"}, forward_attrs, forward_compute, free},
    {"SpriteGroupNormGrad", {"dy: float", "x: float", "gamma: float", "mean: float", "rstd: float"},
     {"dx: float", "dgamma: float", "dbeta: float"}, {"groups: int"}, gradient_attrs, backward_compute, free},
};
const int GROUP_NORM_OP_COUNT = sizeof GROUP_NORM_OPS / sizeof GROUP_NORM_OPS[0];
