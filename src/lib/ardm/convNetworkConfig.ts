/**
 * The ARDM convolutional UNet's architecture as plain numbers, every default in one place, and the
 * one check of their consistency. The PyTorch twin (bench/ardm_conv_torch.py) reads the same keys.
 */

export interface ArdmConvUnetConfig {
  /** Image height in pixels (sprites: 16); divisible by 2^(levels - 1). */
  height: number;
  /** Image width in pixels (sprites: 16); divisible by 2^(levels - 1). */
  width: number;
  /** Channels per pixel (RGB: 3); one categorical variable each. */
  channels: number;
  /** Values per variable, K (a uint8 channel: 256). */
  categories: number;
  /** Feature width of each resolution, full size first; each further level halves H and W. */
  levelWidths: number[];
  /** Residual blocks per level, on the way down and again on the way up. */
  blocksPerLevel: number;
  /** GroupNorm's groups; must divide every level width. */
  groups: number;
}

/**
 * The sprites' network: 16 x 16 RGB, K = 256, widths 64 at 16 x 16 and 96 at 8 x 8, two residual
 * blocks a level each way, GroupNorm of 8 groups: 1,024,896 parameters, the transformer's 1,023,872
 * within 0.1 %, so the two compare at equal size.
 */
export const ARDM_SPRITE_CONV_UNET: Readonly<ArdmConvUnetConfig> = Object.freeze({
  height: 16,
  width: 16,
  channels: 3,
  categories: 256,
  levelWidths: Object.freeze([64, 96]) as number[],
  blocksPerLevel: 2,
  groups: 8,
});

const FIELDS: Array<[Exclude<keyof ArdmConvUnetConfig, "levelWidths">, number, string]> = [
  ["height", 1, "the image height in pixels (sprites: 16)"],
  ["width", 1, "the image width in pixels (sprites: 16)"],
  ["channels", 1, "channels per pixel (RGB: 3)"],
  ["categories", 2, "values per variable, K (a uint8 channel: 256)"],
  ["blocksPerLevel", 1, "residual blocks per level (e.g. 2)"],
  ["groups", 1, "GroupNorm's groups (e.g. 8)"],
];
const KEYS = ["height", "width", "channels", "categories", "levelWidths", "blocksPerLevel", "groups"];

/**
 * Checks every field: a known key, integers at least their minimum, a non-empty list of widths that
 * `groups` divides, and H, W divisible by 2^(levels - 1). Throws naming the field, the value seen
 * and what to do; returns a frozen copy.
 */
export function checkArdmConvUnetConfig(config: ArdmConvUnetConfig): Readonly<ArdmConvUnetConfig> {
  const unknown = Object.keys(config).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) {
    throw new Error(`ArdmConvUnet: unknown config key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; the keys are ${KEYS.join(", ")}.`);
  }
  for (const [key, minimum, meaning] of FIELDS) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < minimum) {
      throw new Error(`ArdmConvUnet: config.${key} is ${value}, but it must be an integer >= ${minimum}: ${meaning}.`);
    }
  }
  const widths = config.levelWidths;
  if (!Array.isArray(widths) || widths.length < 1 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new Error(`ArdmConvUnet: config.levelWidths is ${JSON.stringify(widths)}, but it must be a non-empty list of positive integers, one feature width per resolution (e.g. [64, 96]).`);
  }
  const notDivided = widths.filter((w) => w % config.groups !== 0);
  if (notDivided.length > 0) {
    throw new Error(`ArdmConvUnet: config.groups ${config.groups} does not divide config.levelWidths ${notDivided.join(", ")}; GroupNorm splits each width into equal groups, so choose widths that are multiples of groups.`);
  }
  const scale = 2 ** (widths.length - 1);
  if (config.height % scale !== 0 || config.width % scale !== 0) {
    throw new Error(
      `ArdmConvUnet: config.levelWidths has ${widths.length} levels, which halve the image ${widths.length - 1} times, but ${config.height}x${config.width} ` +
        `is not divisible by ${scale}; use fewer levels or an image size divisible by ${scale}.`,
    );
  }
  return Object.freeze({ ...config, levelWidths: Object.freeze([...widths]) as number[] });
}
