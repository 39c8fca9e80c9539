/** Text conditioning (issue 18): the word tokenizer, the caption encoder, the text-conditioned UNet, its training labels and captioned training data, and textual inversion. */
export * from "./tokenizer";
export * from "./captionEncoder";
export * from "./textContextUnet";
export * from "./captionLabels";
export * from "./captionedData";
export * from "./textualInversion";
export * from "./inversionTemplates";
export * from "./inversionFiles";
export * from "./promptVectors";
export * from "./heldOutPrompts";
