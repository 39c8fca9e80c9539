/*
 * TensorFlow ops of this library's own, for native TensorFlow (tfjs-node): functions that tfjs-core
 * builds out of several kernels, each one full pass over memory, done here in one or two passes.
 * Loaded by src/lib/perf/fusedOpsAddon.ts as a Node addon: loading it registers the ops and their
 * CPU kernels in the libtensorflow tfjs-node already runs, through TensorFlow's stable C API, after
 * which tfjs-node's backend runs them by name like any TensorFlow op. Built for the machine by
 * scripts/native/build-fused-ops.sh. The ops: elementwiseOps.c (GELU, SiLU), groupNormOps.c.
 * This file: the threads, the kernels' inputs and outputs, registration, the module.
 */
#include <node_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "fusedOps.h"

#define MIN_WORK_PER_THREAD 32768

int thread_budget(void) {
  const char* env = getenv("TF_NUM_INTRAOP_THREADS");
  long n = env && *env ? strtol(env, NULL, 10) : 0;
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
}

typedef struct {
  void (*body)(void*, int64_t, int64_t, int);
  void* context;
  int64_t begin, end;
  int thread;
} Range;

static void* run_range(void* arg) {
  Range* r = (Range*)arg;
  r->body(r->context, r->begin, r->end, r->thread);
  return NULL;
}

int parallel_for(int64_t count, int64_t work_per_index, int64_t align, int threads,
                 void (*body)(void*, int64_t, int64_t, int), void* context) {
  const int64_t worth = (count * work_per_index + MIN_WORK_PER_THREAD - 1) / MIN_WORK_PER_THREAD;
  if (worth < threads) threads = worth < 1 ? 1 : (int)worth;
  if (count < threads) threads = count < 1 ? 1 : (int)count;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  Range ranges[MAX_THREADS];
  pthread_t workers[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int t = 0; t < threads; ++t) {
    const int64_t begin = t == 0 ? 0 : (count * t / threads) / align * align;
    const int64_t end = t + 1 == threads ? count : (count * (t + 1) / threads) / align * align;
    ranges[t] = (Range){body, context, begin, end, t};
  }
  for (int t = 1; t < threads; ++t) started[t] = pthread_create(&workers[t], NULL, run_range, &ranges[t]) == 0;
  run_range(&ranges[0]);
  for (int t = 1; t < threads; ++t) {
    if (started[t]) pthread_join(workers[t], NULL);
    else run_range(&ranges[t]); /* no thread to be had: that range runs here */
  }
  return threads;
}

TF_Tensor* float_input(TF_OpKernelContext* ctx, int i, TF_Status* status) {
  TF_Tensor* tensor = NULL;
  TF_GetInput(ctx, i, &tensor, status);
  if (TF_GetCode(status) != TF_OK) return NULL;
  if (TF_TensorType(tensor) != TF_FLOAT) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "the library's fused ops take float32 tensors only");
    TF_DeleteTensor(tensor);
    return NULL;
  }
  return tensor;
}

TF_Tensor* float_output(TF_OpKernelContext* ctx, int index, const int64_t* dims, int rank, TF_Status* status) {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) count *= dims[d];
  TF_Tensor* out = TF_AllocateOutput(ctx, index, TF_FLOAT, dims, rank, (size_t)count * sizeof(float), status);
  return TF_GetCode(status) == TF_OK ? out : NULL;
}

TF_Tensor* float_output_like(TF_OpKernelContext* ctx, int index, const TF_Tensor* like, TF_Status* status) {
  int64_t dims[16];
  const int rank = TF_NumDims(like);
  if (rank > 16) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "the library's fused ops take tensors of rank 16 at most");
    return NULL;
  }
  for (int d = 0; d < rank; ++d) dims[d] = TF_Dim(like, d);
  return float_output(ctx, index, dims, rank, status);
}

void* no_state(TF_OpKernelConstruction* construction) {
  (void)construction;
  return NULL;
}

void no_delete(void* state) { (void)state; }

static void same_shape_as_input0(TF_ShapeInferenceContext* ctx, TF_Status* status) {
  TF_ShapeHandle* shape = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(ctx, 0, shape, status);
  if (TF_GetCode(status) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 0, shape, status);
  TF_DeleteShapeHandle(shape);
}

int register_fused_op(const FusedOp* op, TF_Status* status) {
  TF_OpDefinitionBuilder* builder = TF_NewOpDefinitionBuilder(op->name);
  for (int i = 0; i < 6 && op->inputs[i]; ++i) TF_OpDefinitionBuilderAddInput(builder, op->inputs[i]);
  for (int i = 0; i < 4 && op->outputs[i]; ++i) TF_OpDefinitionBuilderAddOutput(builder, op->outputs[i]);
  for (int i = 0; i < 3 && op->attrs[i]; ++i) TF_OpDefinitionBuilderAddAttr(builder, op->attrs[i]);
  TF_OpDefinitionBuilderSetShapeInferenceFunction(builder, same_shape_as_input0);
  TF_RegisterOpDefinition(builder, status);
  if (TF_GetCode(status) != TF_OK) return 0;
  TF_RegisterKernelBuilder(op->name, TF_NewKernelBuilder(op->name, "CPU", op->create, op->compute, op->destroy), status);
  return TF_GetCode(status) == TF_OK;
}

/* The module's exports: { ops: [the names registered] }, or a JavaScript error saying what failed. */
static napi_value init(napi_env env, napi_value exports) {
  const struct { const FusedOp* ops; int count; } families[] = {
      {ELEMENTWISE_OPS, ELEMENTWISE_OP_COUNT},
      {GROUP_NORM_OPS, GROUP_NORM_OP_COUNT},
  };
  napi_value names, name;
  napi_create_array(env, &names);
  uint32_t registered = 0;
  TF_Status* status = TF_NewStatus();
  for (size_t f = 0; f < sizeof families / sizeof families[0]; ++f) {
    for (int i = 0; i < families[f].count; ++i) {
      if (!register_fused_op(&families[f].ops[i], status)) {
        napi_throw_error(env, NULL, TF_Message(status));
        TF_DeleteStatus(status);
        return NULL;
      }
      napi_create_string_utf8(env, families[f].ops[i].name, NAPI_AUTO_LENGTH, &name);
      napi_set_element(env, names, registered++, name);
    }
  }
  TF_DeleteStatus(status);
  napi_set_named_property(env, exports, "ops", names);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
