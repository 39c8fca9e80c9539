/**
 * The ARDM networks a trainer trains and a checkpoint names: the transformer (./transformer.ts)
 * and the convolutional UNet (./convNetwork.ts), each under its class name with its config.
 */
import { ArdmConvUnet, type ArdmConvUnetConfig, checkArdmConvUnetConfig } from "./convNetwork";
import { ArdmTransformer, type ArdmTransformerConfig, checkArdmTransformerConfig } from "./transformer";

/** A trainable ARDM network: either architecture (each has its config, weights and parameterCount). */
export type ArdmTrainableNetwork = ArdmTransformer | ArdmConvUnet;

/** What a checkpoint records of the architecture: its class name and config. */
export type ArdmArchitecture = { name: "ArdmTransformer"; config: ArdmTransformerConfig } | { name: "ArdmConvUnet"; config: ArdmConvUnetConfig };

/** The network's class name and a copy of its config. */
export function ardmArchitectureOf(network: ArdmTrainableNetwork): ArdmArchitecture {
  if (network instanceof ArdmConvUnet) return { name: "ArdmConvUnet", config: { ...network.config, levelWidths: [...network.config.levelWidths] } };
  return { name: "ArdmTransformer", config: { ...network.config } };
}

/**
 * Builds the network an architecture names, its config checked, initialised from `seed`; throws
 * on an unknown name or a bad config. The caller owns the network (dispose() it).
 */
export function buildArdmNetwork(architecture: ArdmArchitecture, seed = 0): ArdmTrainableNetwork {
  const { name } = architecture;
  if (name === "ArdmTransformer") return new ArdmTransformer(checkArdmTransformerConfig(architecture.config), seed);
  if (name === "ArdmConvUnet") return new ArdmConvUnet(checkArdmConvUnetConfig(architecture.config), seed);
  throw new Error(`architecture "${name}" is neither ArdmTransformer nor ArdmConvUnet; load it with the version that saved it.`);
}
