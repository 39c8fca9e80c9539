/*
 * What the library's op files share: splitting a pass over threads, reading float32 inputs and
 * allocating outputs in a kernel, and registering an op with its CPU kernel.
 */
#ifndef SPRITE_FUSED_OPS_H
#define SPRITE_FUSED_OPS_H

#include "tensorflowCApi.h"

#define MAX_THREADS 64

/* body(context, begin, end, thread) over [0, count) split in contiguous ranges, one per thread
 * (the calling thread takes the first); at most `threads` of them, and fewer when a range would
 * cost less than starting a thread: below about 32768 floats of work, `work_per_index` each.
 * Range edges fall on multiples of `align` indices. Returns the number of ranges used. */
int parallel_for(int64_t count, int64_t work_per_index, int64_t align, int threads,
                 void (*body)(void* context, int64_t begin, int64_t end, int thread), void* context);

/* TensorFlow's own intra-op width: $TF_NUM_INTRAOP_THREADS, else every core (at most MAX_THREADS). */
int thread_budget(void);

/* Input i as a float32 tensor, or NULL with `status` set. */
TF_Tensor* float_input(TF_OpKernelContext* ctx, int i, TF_Status* status);

/* Output `index`, float32, with `rank` dims `dims`, or NULL with `status` set. */
TF_Tensor* float_output(TF_OpKernelContext* ctx, int index, const int64_t* dims, int rank, TF_Status* status);

/* Output `index` shaped like `like`, or NULL with `status` set. */
TF_Tensor* float_output_like(TF_OpKernelContext* ctx, int index, const TF_Tensor* like, TF_Status* status);

/* An op: its name, inputs and outputs ("name: float"), attributes ("groups: int"), and kernel. */
typedef struct {
  const char* name;
  const char* inputs[6];
  const char* outputs[4];
  const char* attrs[3];
  void* (*create)(TF_OpKernelConstruction*);
  void (*compute)(void*, TF_OpKernelContext*);
  void (*destroy)(void*);
} FusedOp;

/* Registers the op and its CPU kernel; returns 0 with `status` set on failure. Output 0 gets
 * input 0's shape in graph shape inference (eager execution does not ask). */
int register_fused_op(const FusedOp* op, TF_Status* status);

/* Kernel state for ops without attributes. */
void* no_state(TF_OpKernelConstruction* construction);
void no_delete(void* state);

extern const FusedOp ELEMENTWISE_OPS[];
extern const int ELEMENTWISE_OP_COUNT;
extern const FusedOp GROUP_NORM_OPS[];
extern const int GROUP_NORM_OP_COUNT;

#endif
