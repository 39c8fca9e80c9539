/** The ONNX inference backend: a ModelProto writer, the networks' graphs (the ARDM's too), ONNX Runtime, a NoiseModel and an ArdmNetwork on it. */
export * from "./modelProto";
export * from "./graphBuilder";
export * from "./contextUnetGraph";
export * from "./attentionUnetGraph";
export * from "./runtime";
export * from "./onnxNoiseModel";
export * from "./ardmGraphInputs";
export * from "./ardmTransformerGraph";
export * from "./ardmConvUnetGraph";
export * from "./ardmOnnxNetwork";
export * from "./samplingEngine";
