/** sprite-diffusion: the one public surface of the library. */
export * from "./diffusion/schedule";
export * from "./model/parameters";
export * from "./model/layers";
export * from "./model/contextUnet";
export * from "./model/torchLayout";
export * from "./backend";
export * from "./diffusion/scheduleTensors";
export * from "./diffusion/forward";
export * from "./diffusion/steps";
export * from "./diffusion/sampling";
export * from "./render";
