/** The ONNX inference backend: a ModelProto writer, the networks' graphs, ONNX Runtime and a NoiseModel on it. */
export * from "./modelProto";
export * from "./graphBuilder";
export * from "./contextUnetGraph";
export * from "./attentionUnetGraph";
export * from "./runtime";
export * from "./onnxNoiseModel";
