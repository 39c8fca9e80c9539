/**
 * Order-agnostic Autoregressive Diffusion Models (Hoogeboom et al. 2022): the network contract,
 * orders and masks, the Eq. 4 loss, likelihood evaluation, sampling and the budgeted parallel schedule;
 * training on the shared loop, checkpoints, the held-out sprites of its likelihood, pictures of its data.
 */
export * from "./network";
export * from "./orders";
export * from "./loss";
export * from "./likelihood";
export * from "./budget";
export * from "./sampling";
export * from "./transformer";
export * from "./convNetwork";
export * from "./architectures";
export * from "./images";
export * from "./training";
export * from "./checkpoint";
export * from "./heldOutSprites";
