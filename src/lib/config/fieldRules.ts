/**
 * A small schema language for JSON config files and its checker: each key's type, range and a
 * one-line doc, so that an unknown, missing or mistyped key fails with one ConfigError naming it.
 */
import { ConfigError } from "./configError";

export type ConfigFieldRule = (
  | { type: "integer"; min: number }
  /** A finite number strictly between `above` and `below` (when given). */
  | { type: "number"; above?: number; below?: number }
  | { type: "boolean" }
  | { type: "string" }
  | { type: "enum"; values: readonly string[] }
  | { type: "array"; items: ConfigFieldRule; minLength: number }
  | { type: "object"; fields: Record<string, ConfigFieldRule> }
) & {
  /** What the key means, shown when it is missing. */
  doc: string;
  optional?: boolean;
};

/** The value as a reader would name its type: "a string", "an array", "null", ... */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return `${JSON.stringify(value)} (${type === "object" ? "an object" : `a ${type}`})`;
}

/** What a rule expects, in words: "an integer >= 1", "a number in (0, 1)", ... */
function expectation(rule: ConfigFieldRule): string {
  switch (rule.type) {
    case "integer":
      return `an integer >= ${rule.min}`;
    case "number":
      if (rule.above !== undefined && rule.below !== undefined) return `a number in (${rule.above}, ${rule.below})`;
      return rule.above !== undefined ? `a number > ${rule.above}` : "a finite number";
    case "boolean":
      return "true or false";
    case "string":
      return "a non-empty string";
    case "enum":
      return `one of ${rule.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "array":
      return `an array of at least ${rule.minLength} (each ${expectation(rule.items)})`;
    case "object":
      return "an object";
  }
}

function matches(rule: ConfigFieldRule, value: unknown): boolean {
  switch (rule.type) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value) && value >= rule.min;
    case "number":
      return typeof value === "number" && Number.isFinite(value) && (rule.above === undefined || value > rule.above) && (rule.below === undefined || value < rule.below);
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string" && value.length > 0;
    case "enum":
      return typeof value === "string" && rule.values.includes(value);
    case "array":
      return Array.isArray(value) && value.length >= rule.minLength;
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
  }
}

/**
 * Throws a ConfigError for the first key of `value` that breaks `rule`, depth first in the
 * order the rule lists its fields: unknown keys, then missing ones, then types and ranges.
 * @param key  the dotted path of `value` ("" for the file's top level).
 */
export function checkConfigField(value: unknown, rule: ConfigFieldRule, key: string, source: string): void {
  if (!matches(rule, value)) throw new ConfigError(source, key, `must be ${expectation(rule)}, got ${describe(value)}.`);
  const at = (child: string) => (key === "" ? child : `${key}.${child}`);
  if (rule.type === "array") {
    (value as unknown[]).forEach((item, i) => checkConfigField(item, rule.items, `${key}[${i}]`, source));
  } else if (rule.type === "object") {
    const object = value as Record<string, unknown>;
    const known = Object.keys(rule.fields);
    for (const name of Object.keys(object)) {
      if (!known.includes(name)) {
        throw new ConfigError(source, at(name), `is not a known key${key === "" ? "" : ` of ${key}`}; the known keys are ${known.join(", ")}.`);
      }
    }
    for (const [name, child] of Object.entries(rule.fields)) {
      if (!(name in object)) {
        if (child.optional) continue;
        throw new ConfigError(source, at(name), `is missing: ${child.doc} (${expectation(child)}).`);
      }
      checkConfigField(object[name], child, at(name), source);
    }
  }
}
