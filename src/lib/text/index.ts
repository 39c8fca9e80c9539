/** Text conditioning (issue 18): the word tokenizer, the caption encoder, the text-conditioned UNet, its training labels and captioned training data. */
export * from "./tokenizer";
export * from "./captionEncoder";
export * from "./textContextUnet";
export * from "./captionLabels";
export * from "./captionedData";
