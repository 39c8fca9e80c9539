/**
 * The networks a checkpoint can hold, by name: the tagged record a manifest keeps of which network
 * and its configuration ({ name: "ContextUnet", config } | { name: "AttentionUnet", config }),
 * the record of a live model, and the model a record builds.
 */
import { AttentionUnet } from "./attentionUnet/attentionUnet";
import { type AttentionUnetConfig, checkAttentionUnetConfig } from "./attentionUnet/config";
import { ContextUnet, type ContextUnetConfig, resolveUnetConfig } from "./contextUnet";
import type { TrainableNoiseModel } from "./trainableNoiseModel";

export type ModelArchitecture = { name: "ContextUnet"; config: ContextUnetConfig } | { name: "AttentionUnet"; config: AttentionUnetConfig };
export type ArchitectureName = ModelArchitecture["name"];
export const ARCHITECTURE_NAMES: readonly ArchitectureName[] = Object.freeze(["ContextUnet", "AttentionUnet"] as const);

/** A network of one of the architectures above. */
export type NoiseNetwork = ContextUnet | AttentionUnet;

/** A plain copy of an attention UNet's config (its lists copied too). */
const copyAttentionConfig = (c: Readonly<AttentionUnetConfig>): AttentionUnetConfig => ({
  ...c,
  downChannels: [...c.downChannels],
  midChannels: [...c.midChannels],
  downsample: [...c.downsample],
});

/** The record of `model`'s architecture, as a checkpoint stores it; throws for a network no checkpoint can rebuild. */
export function architectureOf(model: TrainableNoiseModel): ModelArchitecture {
  if (model instanceof ContextUnet) return { name: "ContextUnet", config: { ...model.config } };
  if (model instanceof AttentionUnet) return { name: "AttentionUnet", config: copyAttentionConfig(model.config) };
  throw new Error(`A checkpoint records a ${ARCHITECTURE_NAMES.join(" or an ")}; this model (${model.constructor.name}) is neither, so it cannot be saved or resumed.`);
}

/**
 * A recorded architecture, checked and completed: the name must be one this library builds (the
 * error names it and `where`, e.g. the manifest's path), and a ContextUnet config from an older
 * checkpoint gets the fields added since (outChannels) at their defaults.
 */
export function resolveArchitecture(recorded: { name: string; config: unknown }, where: string): ModelArchitecture {
  try {
    if (recorded.name === "ContextUnet") return { name: "ContextUnet", config: { ...resolveUnetConfig(recorded.config as Partial<ContextUnetConfig>) } };
    if (recorded.name === "AttentionUnet") return { name: "AttentionUnet", config: copyAttentionConfig(checkAttentionUnetConfig(recorded.config as AttentionUnetConfig)) };
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  throw new Error(
    `${where}: architecture "${recorded.name}" is unknown to this library (it builds ${ARCHITECTURE_NAMES.join(" and ")}); load it with the version that saved it.`,
  );
}

/** A fresh network of `architecture`, initialised from `seed`; the caller owns (disposes) it. */
export function buildModel(architecture: ModelArchitecture, seed = 0): NoiseNetwork {
  return architecture.name === "ContextUnet" ? new ContextUnet(architecture.config, seed) : new AttentionUnet(architecture.config, seed);
}
