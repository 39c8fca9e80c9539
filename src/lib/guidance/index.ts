/** Guidance: classifier-free guidance and classifier guidance as transforms of the noise model, and the noisy-image classifier they use. */
export * from "./noisyClassifierModel";
export * from "./classifierFreeGuidance";
export * from "./classifierGuidance";
export * from "./noisyClassifier";
export * from "./noisyClassifierTraining";
export * from "./noisyClassifierFile";
