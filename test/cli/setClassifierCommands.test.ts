/**
 * train-classifier --set and set-frechet as a user runs them (through tsx): an unknown set, an
 * option that needs --set, a classifier of other images and a checkpoint of the sprites fail in
 * seconds with a message that says what to do.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../helpers/runCommand";

const ROOT = resolve(__dirname, "..", "..");

const run = (command: string, args: string[]) => runCommand(command, args, 60_000);

describe("the 28x28 sets' classifier commands fail before any work", () => {
  const refusals: Array<[string, string[], string]> = [
    ["train-classifier", ["--set", "cifar"], 'No image set "cifar": the 28x28 sets are mnist, textures'],
    ["train-classifier", ["--subset", "100"], "--subset needs --set"],
    ["set-frechet", ["--set", "mnist", "--classifier", "models/classifier"], "models/classifier holds the classifier of the sprites, not of mnist"],
    ["set-frechet", ["--set", "mnist", "--checkpoint", "models/context"], "--checkpoint ignores --set"],
    ["set-frechet", ["--checkpoint", "models/context", "--n", "4"], "models/context records no DDPM config, so no 28x28 set"],
    ["set-frechet", ["--set", "mnist", "--record", "models/evaluation.json"], "--record needs --checkpoint"],
    ["set-frechet", ["--set", "mnist", "--onnx"], "--onnx needs --checkpoint"],
    ["set-frechet", ["--checkpoint", "models/mnist", "--record", "models/evaluation.txt"], `--record ${join(ROOT, "models", "evaluation.txt")}: the file name should end in .json`],
  ];
  for (const [command, args, message] of refusals) {
    it(`${command} ${args.join(" ")} fails saying "${message}"`, async () => {
      const result = await run(command, args);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`${command}: ${message}`);
    }, 120_000);
  }
});
