/**
 * The networks a checkpoint can hold, by name: the tagged record a manifest keeps of which network
 * and its configuration ({ name: "ContextUnet", config } | { name: "AttentionUnet", config } |
 * { name: "TextContextUnet", config }: the last with its vocabulary, so the tokenizer comes back
 * too), the record of a live model, and the model a record builds.
 */
import { AttentionUnet } from "./attentionUnet/attentionUnet";
import { type AttentionUnetConfig, checkAttentionUnetConfig, withAttentionEverywhere } from "./attentionUnet/config";
import { ContextUnet, type ContextUnetConfig, resolveUnetConfig } from "./contextUnet";
import type { TrainableNoiseModel } from "./trainableNoiseModel";
import { TextContextUnet, type TextContextUnetConfig, type TextContextUnetOptions, resolveTextContextUnetConfig } from "../text/textContextUnet";

export type ModelArchitecture =
  | { name: "ContextUnet"; config: ContextUnetConfig }
  | { name: "AttentionUnet"; config: AttentionUnetConfig }
  | { name: "TextContextUnet"; config: TextContextUnetConfig };
export type ArchitectureName = ModelArchitecture["name"];
export const ARCHITECTURE_NAMES: readonly ArchitectureName[] = Object.freeze(["ContextUnet", "AttentionUnet", "TextContextUnet"] as const);

/** "a, b and c". */
const namesListed = (conjunction: string): string => `${ARCHITECTURE_NAMES.slice(0, -1).join(", ")} ${conjunction} ${ARCHITECTURE_NAMES[ARCHITECTURE_NAMES.length - 1]}`;

/** A network of one of the architectures above. */
export type NoiseNetwork = ContextUnet | AttentionUnet | TextContextUnet;

/** A plain copy of an attention UNet's config (its lists copied too). */
const copyAttentionConfig = (c: Readonly<AttentionUnetConfig>): AttentionUnetConfig => ({
  ...c,
  downChannels: [...c.downChannels],
  midChannels: [...c.midChannels],
  downsample: [...c.downsample],
  attention: [...c.attention],
});

/** A plain copy of a text-conditioned UNet's config. */
const copyTextConfig = (c: Readonly<TextContextUnetConfig>): TextContextUnetConfig => ({ vocabulary: [...c.vocabulary], encoder: { ...c.encoder }, unet: { ...c.unet } });

/** The record of `model`'s architecture, as a checkpoint stores it; throws for a network no checkpoint can rebuild. */
export function architectureOf(model: TrainableNoiseModel): ModelArchitecture {
  if (model instanceof ContextUnet) return { name: "ContextUnet", config: { ...model.config } };
  if (model instanceof AttentionUnet) return { name: "AttentionUnet", config: copyAttentionConfig(model.config) };
  if (model instanceof TextContextUnet) return { name: "TextContextUnet", config: copyTextConfig(model.config) };
  throw new Error(`A checkpoint records one of ${namesListed("or")}; this model (${model.constructor.name}) is none of them, so it cannot be saved or resumed.`);
}

/**
 * A recorded architecture, checked and completed: the name must be one this library builds (the
 * error names it and `where`, e.g. the manifest's path), and a config from an older checkpoint gets
 * the fields added since at their defaults (ContextUnet's outChannels, AttentionUnet's attention).
 */
export function resolveArchitecture(recorded: { name: string; config: unknown }, where: string): ModelArchitecture {
  try {
    if (recorded.name === "ContextUnet") return { name: "ContextUnet", config: { ...resolveUnetConfig(recorded.config as Partial<ContextUnetConfig>) } };
    if (recorded.name === "AttentionUnet") {
      return { name: "AttentionUnet", config: copyAttentionConfig(checkAttentionUnetConfig(withAttentionEverywhere(recorded.config as AttentionUnetConfig))) };
    }
    if (recorded.name === "TextContextUnet") return { name: "TextContextUnet", config: resolveTextContextUnetConfig(recorded.config as TextContextUnetOptions) };
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  throw new Error(`${where}: architecture "${recorded.name}" is unknown to this library (it builds ${namesListed("and")}); load it with the version that saved it.`);
}

/** A fresh network of `architecture`, initialised from `seed`; the caller owns (disposes) it. */
export function buildModel(architecture: ModelArchitecture, seed = 0): NoiseNetwork {
  switch (architecture.name) {
    case "ContextUnet":
      return new ContextUnet(architecture.config, seed);
    case "AttentionUnet":
      return new AttentionUnet(architecture.config, seed);
    case "TextContextUnet":
      return new TextContextUnet(architecture.config, seed);
  }
}
