/**
 * Reading and writing DDPM config files: parse, check everything (version, keys, types, and the
 * architecture's consistency), and fail with one ConfigError naming the key.
 */
import { readFileSync } from "node:fs";
import { attentionUnetConfigProblem, withAttentionEverywhere } from "../model/attentionUnet/config";
import { ConfigError } from "./configError";
import { DDPM_CONFIG_RULE, DDPM_CONFIG_VERSION, type DdpmConfig, attentionUnetConfigOf } from "./ddpmConfig";
import { checkConfigField } from "./fieldRules";

/** The model's own field names as the file spells them (the rest live under "model."). */
const FILE_KEYS: Record<string, string> = { imageSize: "dataset.imageSize", imageChannels: "dataset.channels" };

/**
 * Checks a parsed JSON value as a DDPM config: the version first (a newer file would otherwise
 * fail on keys it added), then every key's presence, type and range, then what only the keys
 * together say (beta's order, MNIST's one channel, the network's widths, groups, heads and
 * downsampling). Throws one ConfigError naming the first bad key.
 * @param source  the file name, for the message.
 * @returns       the config, typed, with model.attention filled in when the file leaves it out
 *                (every block attends); the value itself is not changed.
 */
export function parseDdpmConfig(value: unknown, source = "config"): DdpmConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(source, "", "must hold one JSON object with version, dataset, model and training.");
  }
  const version = (value as { version?: unknown }).version;
  if (version === undefined) throw new ConfigError(source, "version", `is missing: this library reads version ${DDPM_CONFIG_VERSION} files; add "version": ${DDPM_CONFIG_VERSION}.`);
  if (version !== DDPM_CONFIG_VERSION) {
    throw new ConfigError(source, "version", `is ${JSON.stringify(version)}, but this library reads version ${DDPM_CONFIG_VERSION} only; update the library or convert the file.`);
  }
  checkConfigField(value, DDPM_CONFIG_RULE, "", source);
  const written = value as DdpmConfig;
  const config: DdpmConfig = { ...written, model: withAttentionEverywhere(written.model) };
  const { betaStart, betaEnd } = config.training;
  if (betaStart > betaEnd) throw new ConfigError(source, "training.betaEnd", `${betaEnd} is below betaStart ${betaStart}; beta grows from betaStart at t = 0 to betaEnd at t = T.`);
  if (config.dataset.name === "mnist" && config.dataset.channels !== 1) {
    throw new ConfigError(source, "dataset.channels", `MNIST digits are grayscale: 1 channel, got ${config.dataset.channels}.`);
  }
  const problem = attentionUnetConfigProblem(attentionUnetConfigOf(config));
  if (problem) {
    const field = problem.key.replace(/\[.*$/, "");
    throw new ConfigError(source, FILE_KEYS[field] ?? `model.${problem.key}`, problem.message);
  }
  return config;
}

/** Reads and checks a config file; a missing file or bad JSON fails naming the file. */
export function loadDdpmConfig(path: string): DdpmConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, "", `cannot be read (${(error as Error).message}).`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, "", `is not valid JSON (${(error as Error).message}).`);
  }
  return parseDdpmConfig(value, path);
}

/** The file's text for `config`: two-space JSON with a final newline, keys in the order given. */
export function formatDdpmConfig(config: DdpmConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
