/**
 * `npm run sprites -- [--seed S] [--count N] [--variants V] [--out DIR] [--no-sheets]`
 *   regenerates the sprite set (default: seed 0, 89,400 sprites = 1,788 bases x 50 variants, into
 *   data/sprites) with its captions file, writes its manifest and one contact-sheet PNG per class.
 * `npm run sprites -- --ensure [--out DIR]`
 *   makes sure DIR holds the set (and captions) its committed manifest describes, generating
 *   what is missing (what the set-up script runs on a fresh clone).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend";
import { renderGridPng } from "../lib/render/grid";
import {
  DEFAULT_SPRITE_DIR,
  SPRITE_CLASS_NAMES,
  contactSheetIndices,
  ensureSpriteSet,
  generateSpriteSet,
  sampleTensors,
  writeSpriteSet,
  type SpriteSet,
} from "../lib/data/index";
import { checkOutputFolder, numberOption, rejectTogether } from "./arguments";

const USAGE = "usage: npm run sprites -- [--seed S] [--count N] [--variants V] [--out DIR] [--no-sheets] | --ensure [--out DIR]";

/** One PNG per class: 8 x 8 distinct bases, scaled 4x, named contact_<k>_<class>.png. */
async function writeContactSheets(set: SpriteSet, dir: string): Promise<string[]> {
  await initBackend("cpu"); // pixel copies only; this also keeps tfjs's cpu banner out of the log
  const written: string[] = [];
  const dataset = { count: set.count, pixels: set.images, classes: set.classes, source: { images: "generated", labels: "generated" } };
  SPRITE_CLASS_NAMES.forEach((name, k) => {
    const indices = contactSheetIndices(set, k, 64);
    if (indices.length === 0) return;
    const { images, labels } = sampleTensors(dataset, indices);
    const path = join(dir, `contact_${k}_${name.replace(/[^a-z]+/g, "-")}.png`);
    writeFileSync(path, renderGridPng(images, { cols: 8, scale: 4, gutter: 2 }));
    images.dispose();
    labels.dispose();
    written.push(path);
  });
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      count: { type: "string" },
      variants: { type: "string" },
      out: { type: "string", default: DEFAULT_SPRITE_DIR },
      "no-sheets": { type: "boolean", default: false },
      ensure: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const out = values.out as string;
  checkOutputFolder(out, "--out");
  rejectTogether(values, "ensure", ["seed", "count", "variants", "no-sheets"]);
  const whole = { integer: true, min: 0 };
  const seed = numberOption(values.seed, "seed", whole) ?? 0;
  const count = numberOption(values.count, "count", whole);
  const variantsPerBase = numberOption(values.variants, "variants", whole);
  const started = Date.now();
  if (values.ensure) {
    const result = ensureSpriteSet(out);
    const files = [result.images, result.labels, ...(result.captions === null ? [] : [result.captions])];
    console.log(`${result.generated ? "generated" : "up to date"}: ${files.join(", ")} (${Date.now() - started} ms)`);
    return;
  }
  const set = generateSpriteSet({ seed, count, variantsPerBase });
  const generatedMs = Date.now() - started;
  const manifest = writeSpriteSet(out, set);
  console.log(`generated ${set.count} sprites (${set.baseCount} bases x ${set.variantsPerBase}) with seed ${set.seed} in ${generatedMs} ms`);
  manifest.classCounts.forEach((n, k) => console.log(`  class ${k} ${SPRITE_CLASS_NAMES[k]}: ${n} (${((100 * n) / set.count).toFixed(1)} %)`));
  const records = [manifest.images, manifest.labels, ...(manifest.captions === undefined ? [] : [manifest.captions])];
  console.log(`wrote ${records.map((record) => `${join(out, record.name)} (${record.bytes} bytes)`).join(", ")}, manifest.json`);
  if (!values["no-sheets"]) for (const path of await writeContactSheets(set, out)) console.log(`wrote ${path}`);
  console.log(`done in ${Date.now() - started} ms`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
