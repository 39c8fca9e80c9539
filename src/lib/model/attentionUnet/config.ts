/**
 * The attention UNet's architecture as plain numbers: every width, count and switch in one place,
 * and the one check of their consistency. The reference is explainingai-code/DDPM-Pytorch's
 * `Unet` (MIT; its config/default.yaml gives the sizes of REFERENCE_ATTENTION_UNET_CONFIG).
 */

export interface AttentionUnetConfig {
  /** Image height = width (MNIST: 28); 2^(number of downsampling blocks) must divide it. */
  imageSize: number;
  /** Image channels (MNIST: 1, RGB textures: 3); the output has as many (the predicted eps). */
  imageChannels: number;
  /**
   * Widths [C1, ..., Cn], n >= 2: conv_in maps the image to C1 and down block i maps C_i to
   * C_(i+1) (so there are n - 1 down blocks); up blocks retrace them.
   */
  downChannels: number[];
  /** Widths [M1, ..., Mm], m >= 2: mid block i maps M_i to M_(i+1); M1 = Cn and Mm = C(n-1). */
  midChannels: number[];
  /** One flag per down block: does it halve H and W (strided conv) at its end? Up blocks mirror it. */
  downsample: boolean[];
  /**
   * One flag per down block: does a self-attention follow each of its ResNets? The up block that
   * mirrors it follows it; the mid blocks always attend. The reference attends everywhere; DDPM
   * (Ho et al. 2020, appendix B) only at 16x16, since an L x L score matrix costs L^2 = (H W)^2.
   */
  attention: boolean[];
  /** Size of the sinusoidal time embedding and of the MLP after it; even (sin and cos halves). */
  timeEmbeddingSize: number;
  /** ResNet + attention pairs per down block. */
  downLayers: number;
  /** Attention + ResNet pairs per mid block, after its first ResNet. */
  midLayers: number;
  /** ResNet + attention pairs per up block. */
  upLayers: number;
  /** Heads of every self-attention; must divide every width in downChannels, midChannels and finalChannels. */
  attentionHeads: number;
  /** GroupNorm's groups everywhere; must divide every width. */
  normGroups: number;
  /** Width of the last up block and of the output norm-SiLU-conv (the reference fixes 16). */
  finalChannels: number;
}

/** The reference's model for 28x28 MNIST (config/default.yaml): a size for a GPU, not this CPU. */
export const REFERENCE_ATTENTION_UNET_CONFIG: Readonly<AttentionUnetConfig> = Object.freeze({
  imageSize: 28,
  imageChannels: 1,
  downChannels: [32, 64, 128, 256],
  midChannels: [256, 256, 128],
  downsample: [true, true, false],
  attention: [true, true, true],
  timeEmbeddingSize: 128,
  downLayers: 2,
  midLayers: 2,
  upLayers: 2,
  attentionHeads: 4,
  normGroups: 8,
  finalChannels: 16,
});

/** What is wrong with a configuration: the field (and index) and why, in words that say what to do. */
export interface ConfigProblem {
  /** The field, e.g. "downChannels[2]" or "imageSize". */
  key: string;
  message: string;
}

const positiveIntegerFields = [
  "imageSize", "imageChannels", "timeEmbeddingSize", "downLayers", "midLayers", "upLayers", "attentionHeads", "normGroups", "finalChannels",
] as const;

/**
 * The first inconsistency of `config`, or null when the network can be built. Checked: positive
 * integer sizes, an even time embedding, the list lengths, the mid widths that must meet the down
 * path, group and head counts that divide every width, and downsampling that divides the image.
 */
export function attentionUnetConfigProblem(config: AttentionUnetConfig): ConfigProblem | null {
  for (const key of positiveIntegerFields) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) return { key, message: `must be a positive integer, got ${value}.` };
  }
  const widths: Array<[string, number[]]> = [["downChannels", config.downChannels], ["midChannels", config.midChannels]];
  for (const [key, list] of widths) {
    if (list.length < 2) return { key, message: `needs at least 2 widths (a block maps one to the next), got [${list}].` };
    const bad = list.findIndex((c) => !Number.isInteger(c) || c < 1);
    if (bad >= 0) return { key: `${key}[${bad}]`, message: `must be a positive integer, got ${list[bad]}.` };
  }
  if (config.timeEmbeddingSize % 2 !== 0) {
    return { key: "timeEmbeddingSize", message: `must be even (half sines, half cosines), got ${config.timeEmbeddingSize}.` };
  }
  const down = config.downChannels;
  const mid = config.midChannels;
  if (config.downsample.length !== down.length - 1) {
    return { key: "downsample", message: `needs one flag per down block: ${down.length - 1} for ${down.length} downChannels, got ${config.downsample.length}.` };
  }
  if (!Array.isArray(config.attention) || config.attention.length !== down.length - 1) {
    return { key: "attention", message: `needs one flag per down block: ${down.length - 1} for ${down.length} downChannels, got ${Array.isArray(config.attention) ? config.attention.length : config.attention}.` };
  }
  if (mid[0] !== down[down.length - 1]) {
    return { key: "midChannels[0]", message: `must equal the last down width downChannels[${down.length - 1}] = ${down[down.length - 1]} (the mid blocks take the down path's output), got ${mid[0]}.` };
  }
  if (mid[mid.length - 1] !== down[down.length - 2]) {
    return { key: `midChannels[${mid.length - 1}]`, message: `must equal downChannels[${down.length - 2}] = ${down[down.length - 2]} (the first up block concatenates it with that skip), got ${mid[mid.length - 1]}.` };
  }
  const everyWidth: Array<[string, number]> = [
    ...down.map((c, i): [string, number] => [`downChannels[${i}]`, c]),
    ...mid.map((c, i): [string, number] => [`midChannels[${i}]`, c]),
    ["finalChannels", config.finalChannels],
  ];
  for (const [key, width] of everyWidth) {
    if (width % config.normGroups !== 0) {
      return { key, message: `${width} channels do not split into normGroups = ${config.normGroups} equal groups; use a multiple of ${config.normGroups} (or fewer groups).` };
    }
    if (width % config.attentionHeads !== 0) {
      return { key, message: `${width} channels do not split into attentionHeads = ${config.attentionHeads} equal heads; use a multiple of ${config.attentionHeads} (or fewer heads).` };
    }
  }
  const factor = 2 ** config.downsample.filter(Boolean).length;
  if (config.imageSize % factor !== 0) {
    return { key: "imageSize", message: `${config.imageSize} is not divisible by ${factor}, the total downsampling of downsample [${config.downsample}] (each true halves H and W); use fewer downsampling blocks or another size.` };
  }
  return null;
}

/** A frozen copy of `config`; throws "AttentionUnet: <field> ..." naming the first problem. */
export function checkAttentionUnetConfig(config: AttentionUnetConfig): Readonly<AttentionUnetConfig> {
  const problem = attentionUnetConfigProblem(config);
  if (problem) throw new Error(`AttentionUnet: ${problem.key}: ${problem.message}`);
  return Object.freeze({
    ...config,
    downChannels: [...config.downChannels],
    midChannels: [...config.midChannels],
    downsample: [...config.downsample],
    attention: [...config.attention],
  });
}

/**
 * `config` with the attention flags a record made before they existed leaves out: such a network
 * attends in every block (what every AttentionUnet did then), so old checkpoints and config files
 * keep building the network they were trained as.
 */
export function withAttentionEverywhere<C extends { downChannels: number[]; attention?: boolean[] }>(config: C): C & { attention: boolean[] } {
  const downBlocks = Array.isArray(config.downChannels) ? Math.max(config.downChannels.length - 1, 0) : 0;
  return { ...config, attention: config.attention ?? Array.from({ length: downBlocks }, () => true) };
}
