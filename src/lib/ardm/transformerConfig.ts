/**
 * The ARDM transformer's architecture as plain numbers, every default in one place, and the one
 * check of their consistency. The PyTorch twin (bench/ardm_torch.py) reads the same keys.
 */

export interface ArdmTransformerConfig {
  /** Image height in pixels (sprites: 16). */
  height: number;
  /** Image width in pixels (sprites: 16). */
  width: number;
  /** Channels per pixel (RGB: 3); one categorical variable each. */
  channels: number;
  /** Values per variable, K (a uint8 channel: 256). */
  categories: number;
  /** The model's width: every token's embedding and every block's residual stream. */
  modelWidth: number;
  /** Transformer blocks. */
  layers: number;
  /** Attention heads per block; must divide modelWidth. */
  heads: number;
  /** The MLP's hidden width is mlpRatio * modelWidth (Vaswani et al. 2017 use 4). */
  mlpRatio: number;
}

/** The sprites' network: 16 x 16 RGB, K = 256, width 128, 4 blocks of 4 heads (1,023,872 parameters). */
export const ARDM_SPRITE_TRANSFORMER: Readonly<ArdmTransformerConfig> = Object.freeze({
  height: 16,
  width: 16,
  channels: 3,
  categories: 256,
  modelWidth: 128,
  layers: 4,
  heads: 4,
  mlpRatio: 4,
});

const FIELDS: Array<[keyof ArdmTransformerConfig, number, string]> = [
  ["height", 1, "the image height in pixels (sprites: 16)"],
  ["width", 1, "the image width in pixels (sprites: 16)"],
  ["channels", 1, "channels per pixel (RGB: 3)"],
  ["categories", 2, "values per variable, K (a uint8 channel: 256)"],
  ["modelWidth", 1, "the model width (e.g. 128)"],
  ["layers", 1, "the number of transformer blocks (e.g. 4)"],
  ["heads", 1, "attention heads per block (e.g. 4)"],
  ["mlpRatio", 1, "the MLP's hidden width over the model width (e.g. 4)"],
];

/**
 * Checks every field: a known key, an integer at least its minimum, heads dividing modelWidth.
 * Throws naming the field, the value seen and what to do; returns a frozen copy.
 */
export function checkArdmTransformerConfig(config: ArdmTransformerConfig): Readonly<ArdmTransformerConfig> {
  const known = new Set<string>(FIELDS.map(([key]) => key));
  const unknown = Object.keys(config).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new Error(`ArdmTransformer: unknown config key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; the keys are ${[...known].join(", ")}.`);
  }
  for (const [key, minimum, meaning] of FIELDS) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < minimum) {
      throw new Error(`ArdmTransformer: config.${key} is ${value}, but it must be an integer >= ${minimum}: ${meaning}.`);
    }
  }
  if (config.modelWidth % config.heads !== 0) {
    throw new Error(
      `ArdmTransformer: config.modelWidth ${config.modelWidth} is not divisible by config.heads ${config.heads}; ` +
        `each head takes modelWidth / heads channels, so choose heads among the divisors of ${config.modelWidth}.`,
    );
  }
  return Object.freeze({ ...config });
}
