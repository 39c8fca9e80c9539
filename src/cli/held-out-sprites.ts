/**
 * `npm run held-out-sprites -- [--kind robot] [--count 5] [--seed 0] --out examples.npy [--no-sheet]`
 *   writes sprites of a kind the sprite set never draws nor names (src/lib/data/sprites/heldOut.ts)
 *   as uint8 (K, 16, 16, 3), the set's layout; beside it, FILE.json with each sprite's attributes
 *   and captions (its kind's word in them), and FILE.png, a contact sheet. The examples
 *   `npm run invert` learns a new word from (with --captions FILE.json: the generator's
 *   templates with the kind replaced by the new word).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend";
import { writeNpy } from "../lib/data/npy";
import { HELD_OUT_KINDS, heldOutRecord, heldOutSprites } from "../lib/data/sprites/heldOut";
import { renderGridPng } from "../lib/render/grid";
import { checkOutputFile, choiceOption, numberOption } from "./arguments";

const USAGE = `Usage: npm run held-out-sprites -- --out examples.npy [options]
  --out FILE.npy   where to write the sprites (uint8, (K, 16, 16, 3)); FILE.json and FILE.png go beside it
  --kind K         the held-out kind: ${HELD_OUT_KINDS.join(", ")} (default ${HELD_OUT_KINDS[0]})
  --count K        how many, each a distinct sprite (default 5: textual inversion's 3-5 examples)
  --seed S         seed of the drawing (default 0; the set's seeds never draw these)
  --no-sheet       skip the contact sheet`;

/** The command's options, checked; null for --help. */
export function parseHeldOutArgs(args: string[]) {
  const { values: a } = parseArgs({
    args,
    options: {
      out: { type: "string" }, kind: { type: "string", default: HELD_OUT_KINDS[0] }, count: { type: "string", default: "5" },
      seed: { type: "string", default: "0" }, "no-sheet": { type: "boolean", default: false }, help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  if (!a.out) throw new Error(`--out is required.\n${USAGE}`);
  checkOutputFile(a.out, "--out", [".npy"]);
  return {
    out: a.out,
    kind: choiceOption(a.kind, "kind", HELD_OUT_KINDS)!,
    count: numberOption(a.count, "count", { integer: true, min: 1 })!,
    seed: numberOption(a.seed, "seed", { integer: true, min: 0 })!,
    sheet: !a["no-sheet"],
  };
}

async function main(): Promise<void> {
  const a = parseHeldOutArgs(process.argv.slice(2));
  if (!a) return console.log(USAGE);
  const sprites = heldOutSprites(a);
  writeNpy(a.out, { dtype: "uint8", shape: [sprites.count, 16, 16, 3], data: sprites.images });
  const json = a.out.replace(/\.npy$/i, ".json");
  writeFileSync(json, `${JSON.stringify(heldOutRecord(sprites), null, 1)}\n`);
  console.log(`wrote ${sprites.count} ${sprites.kind} sprites (seed ${sprites.seed}) to ${a.out}, their attributes and captions to ${json}`);
  if (!a.sheet) return;
  await initBackend("cpu"); // pixel copies only
  const png = a.out.replace(/\.npy$/i, ".png");
  const images = tf.tidy(() => tf.sub(tf.div(tf.tensor4d(sprites.images, [sprites.count, 16, 16, 3], "float32"), 127.5), 1) as tf.Tensor4D);
  writeFileSync(png, renderGridPng(images, { cols: Math.min(8, sprites.count), scale: 4, gutter: 2 }));
  images.dispose();
  console.log(`wrote ${png}`);
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((error) => {
    console.error(`held-out-sprites: ${(error as Error).message}`);
    process.exit(1);
  });
}
