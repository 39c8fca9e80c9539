/** Editing with a trained model, no retraining: inpainting (replacement, RePaint), image-to-image (SDEdit), masks and their measures. */
export * from "./masks";
export * from "./editingMetrics";
export * from "./sketch";
export * from "./repaintSchedule";
export * from "./editingChain";
export * from "./editLoop";
export * from "./inpaint";
export * from "./imageToImage";
export * from "./inpaintingEvaluation";
export * from "./editingEvaluationFile";
