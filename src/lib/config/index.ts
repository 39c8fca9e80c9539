/** DDPM config files: the format, its checks, reading and writing. */
export * from "./configError";
export * from "./fieldRules";
export * from "./ddpmConfig";
export * from "./ddpmConfigFile";
