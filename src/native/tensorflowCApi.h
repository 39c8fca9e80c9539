/*
 * The part of TensorFlow's stable C API the library's ops use (tensorflow/c/{tf_status,tf_tensor,
 * ops,kernels}.h), declared here so that they build against any libtensorflow 2.x without its
 * headers: tfjs-node's own download ships the library, not always these headers.
 */
#ifndef SPRITE_TENSORFLOW_C_API_H
#define SPRITE_TENSORFLOW_C_API_H

#include <stddef.h>
#include <stdint.h>

typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
typedef struct TF_ShapeHandle TF_ShapeHandle;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
enum { TF_OK = 0, TF_INVALID_ARGUMENT = 3, TF_FLOAT = 1 };

extern TF_Status* TF_NewStatus(void);
extern void TF_DeleteStatus(TF_Status*);
extern int TF_GetCode(const TF_Status*);
extern const char* TF_Message(const TF_Status*);
extern void TF_SetStatus(TF_Status*, int code, const char* message);

extern int TF_NumDims(const TF_Tensor*);
extern int64_t TF_Dim(const TF_Tensor*, int index);
extern int64_t TF_TensorElementCount(const TF_Tensor*);
extern int TF_TensorType(const TF_Tensor*);
extern void* TF_TensorData(const TF_Tensor*);
extern void TF_DeleteTensor(TF_Tensor*);

extern TF_OpDefinitionBuilder* TF_NewOpDefinitionBuilder(const char* op_name);
extern void TF_OpDefinitionBuilderAddInput(TF_OpDefinitionBuilder*, const char* input_spec);
extern void TF_OpDefinitionBuilderAddOutput(TF_OpDefinitionBuilder*, const char* output_spec);
extern void TF_OpDefinitionBuilderAddAttr(TF_OpDefinitionBuilder*, const char* attr_spec);
extern void TF_OpDefinitionBuilderSetShapeInferenceFunction(
    TF_OpDefinitionBuilder*, void (*shape_inference_func)(TF_ShapeInferenceContext*, TF_Status*));
extern void TF_RegisterOpDefinition(TF_OpDefinitionBuilder*, TF_Status*);
extern TF_ShapeHandle* TF_NewShapeHandle(void);
extern void TF_DeleteShapeHandle(TF_ShapeHandle*);
extern void TF_ShapeInferenceContextGetInput(TF_ShapeInferenceContext*, int i, TF_ShapeHandle*, TF_Status*);
extern void TF_ShapeInferenceContextSetOutput(TF_ShapeInferenceContext*, int i, TF_ShapeHandle*, TF_Status*);

extern TF_KernelBuilder* TF_NewKernelBuilder(const char* op_name, const char* device_name,
                                             void* (*create_func)(TF_OpKernelConstruction*),
                                             void (*compute_func)(void*, TF_OpKernelContext*),
                                             void (*delete_func)(void*));
extern void TF_RegisterKernelBuilder(const char* kernel_name, TF_KernelBuilder*, TF_Status*);
extern void TF_OpKernelConstruction_GetAttrInt32(TF_OpKernelConstruction*, const char* name, int32_t* value, TF_Status*);
extern void TF_OpKernelConstruction_GetAttrFloat(TF_OpKernelConstruction*, const char* name, float* value, TF_Status*);
extern void TF_OpKernelConstruction_Failure(TF_OpKernelConstruction*, TF_Status*);
extern void TF_GetInput(TF_OpKernelContext*, int i, TF_Tensor** tensor, TF_Status*);
extern TF_Tensor* TF_AllocateOutput(TF_OpKernelContext*, int index, int dtype, const int64_t* dims, int num_dims,
                                    size_t len, TF_Status*);
extern void TF_OpKernelContext_Failure(TF_OpKernelContext*, TF_Status*);

#endif
