/** The attention UNet: its configuration, layers, blocks and the model. */
export * from "./config";
export * from "./timeEmbedding";
export * from "./resnet";
export * from "./attention";
export * from "./resample";
export * from "./blocks";
export * from "./attentionUnet";
