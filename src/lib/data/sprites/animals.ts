/**
 * Class 1, non-hero, part 2: front-facing animals (sitting mammals told apart by ears, muzzle and
 * tail; frogs, owls and chicks, crabs, spiders, bees). Drawn on the left half and mirrored; tails
 * are added after mirroring so the silhouette is not perfectly symmetric.
 */
import { SpriteCanvas } from "./canvas";
import type { Prng } from "./prng";
import { darken, lighten, pickColour, type Rgb } from "./palette";
import { drawCreatureEye, faceInks, type CreatureEye, type FaceInks } from "./features";

export type AnimalKind = "cat" | "fox" | "dog" | "bear" | "rabbit" | "mouse" | "pig" | "frog" | "owl" | "chick" | "crab" | "spider" | "bee";

export const ANIMAL_WEIGHTS: Readonly<Record<AnimalKind, number>> = {
  cat: 3, fox: 2, dog: 3, bear: 2, rabbit: 2, mouse: 2, pig: 2, frog: 2, owl: 2, chick: 1, crab: 2, spider: 1, bee: 2,
};

const FUR: Readonly<Record<string, readonly Rgb[]>> = {
  cat: [0xe89848, 0x808890, 0x3c3840, 0xf0e8e0, 0xc8a070],
  fox: [0xe07028, 0xd05820, 0xe8e0d8],
  dog: [0xb07840, 0xe8d0a8, 0x604030, 0xd8a060],
  bear: [0x8a5a34, 0x6a4028, 0xf0ece8, 0xc08850],
  rabbit: [0xf0ece8, 0xc8b8a8, 0x9a7860, 0xe8c8d0],
  mouse: [0xa8a0a0, 0x8a7a70, 0xf0ece8],
  pig: [0xf0a8b0, 0xe890a0],
  frog: [0x58b840, 0x40a060, 0x88c838, 0x3890c0],
  owl: [0x9a6a40, 0x7a6a60, 0xe8e0d0, 0xb08850],
  chick: [0xf8d838, 0xf8c828],
  crab: [0xe04830, 0xe87030, 0xc83050],
  spider: [0x504058, 0x6a3a80, 0x3a3a48],
  bee: [0xf8c820],
};

/** Draws one animal of the given kind. */
export function drawAnimal(prng: Prng, kind: AnimalKind): SpriteCanvas {
  const c = new SpriteCanvas();
  const f = faceInks(c, prng);
  const furColour = pickColour(prng, FUR[kind], 8);
  const fur = c.region(furColour, "round");
  const light = c.region(lighten(furColour, 150));
  const dark = c.region(darken(furColour, 60));
  const eye = prng.pick<CreatureEye>(["dot", "tall", "big", "big"]);
  switch (kind) {
    case "frog": {
      c.ellipse(16, 20, 14, 10, fur);
      c.ellipse(9, 10, 5, 5, fur);
      c.ellipse(16, 24, 8, 5, light);
      c.rect(1, 14, 3, 1, dark);
      drawCreatureEye(c, 5, 5, "big", f);
      c.rect(3, 10, 5, 1, f.ink);
      break;
    }
    case "owl":
    case "chick": {
      c.ellipse(16, 17, 12, 13, fur);
      if (kind === "owl") c.rect(3, 2, 1, 2, fur);
      c.ellipse(16, 22, 6, 8, light);
      c.rect(2, 8, 2, 4, dark);
      if (kind === "owl") c.ellipse(11, 12, 5, 5, light);
      drawCreatureEye(c, 6, 6, kind === "owl" ? "big" : eye, f);
      const beak = c.region(0xf09020);
      c.rect(7, 8, 1, 2, beak);
      c.rect(5, 14, 2, 1, beak);
      break;
    }
    case "crab": {
      c.ellipse(16, 20, 12, 8, fur);
      c.rect(5, 4, 1, 2, fur);
      c.ellipse(7, 8, 5, 6, fur);
      c.set(3, 1, 0);
      c.set(3, 2, 0);
      c.rect(2, 6, 1, 2, fur);
      c.line(2, 13, 4, 12, dark);
      c.line(1, 12, 3, 11, dark);
      c.set(5, 3, f.ink);
      c.rect(6, 11, 2, 1, f.ink);
      break;
    }
    case "spider": {
      c.ellipse(16, 17, 9, 9, fur);
      c.ellipse(16, 10, 6, 5, fur);
      for (const [y0, y1] of [[6, 3], [8, 7], [10, 12], [11, 14]]) c.line(4, y0, 1, y1, dark);
      c.set(6, 6, f.glow);
      c.set(7, 5, f.glow);
      break;
    }
    case "bee": {
      const wing = c.region(0xe0f0fa);
      c.ellipse(9, 10, 7, 8, wing);
      c.ellipse(16, 19, 10, 9, fur);
      const stripe = c.region(0x302018);
      c.rect(3, 10, 5, 1, stripe);
      c.rect(4, 13, 4, 1, stripe);
      c.line(6, 5, 5, 2, stripe);
      drawCreatureEye(c, 6, 7, eye, f);
      break;
    }
    default:
      drawMammal(c, prng, kind, { fur, light, dark }, eye, f);
  }
  c.mirrorLeftToRight();
  if (["cat", "fox", "dog", "mouse", "pig"].includes(kind)) drawTail(c, kind, kind === "fox" ? fur : dark, light);
  if (kind === "rabbit") c.rect(12, 12, 2, 2, light);
  if (kind === "bee") c.set(8, 14, c.region(0x302018, "flat"));
  // Frogs and owls always get big eyes; crabs and spiders draw their own.
  const bigEyes = kind === "frog" || kind === "owl" || (eye === "big" && kind !== "crab" && kind !== "spider");
  c.describe({ family: "animal", kind, facing: "front", colourRegions: [fur], parts: bigEyes ? ["big eyes"] : [] });
  return c;
}

/** Sitting mammal: ears, a round head with a muzzle, a small body with paws. */
function drawMammal(
  c: SpriteCanvas,
  prng: Prng,
  kind: AnimalKind,
  { fur, light, dark }: { fur: number; light: number; dark: number },
  eye: CreatureEye,
  f: FaceInks,
): void {
  const inner = c.region(0xf0a0a8, "flat");
  const headY2 = kind === "rabbit" ? 16 : 14;
  // Body first so the head overlaps it; its own region so a shadow line parts head from body.
  c.ellipse(16, 24, 9, 6, c.region(c.regions[fur].colour, "round"));
  c.rect(5, 14, 2, 1, light);
  switch (kind) {
    case "cat":
    case "fox":
      c.rect(3, 1, 1, 3, fur);
      c.rect(4, 2, 1, 2, fur);
      c.set(5, 3, fur);
      if (kind === "fox") c.set(2, 2, fur);
      c.set(4, 3, inner);
      break;
    case "bear":
    case "mouse":
      c.ellipse(8, kind === "mouse" ? 8 : 5, kind === "mouse" ? 6 : 4, kind === "mouse" ? 6 : 4, fur);
      c.set(3, kind === "mouse" ? 2 : 2, inner);
      break;
    case "rabbit":
      c.rect(4, 1, 2, 4, fur);
      c.set(5, 2, inner);
      c.set(5, 3, inner);
      break;
    case "pig":
      c.rect(4, 2, 1, 2, fur);
      c.set(3, 2, fur);
      break;
  }
  c.ellipse(16, headY2, 11, 9, fur);
  if (kind === "dog") c.rect(2, 4, 2, 5, dark);
  const muzzleY = headY2 / 2 + 2;
  if (kind === "pig") {
    c.rect(6, muzzleY - 1, 2, 2, c.region(0xe87890));
    c.set(6, muzzleY, f.ink);
  } else {
    c.rect(6, muzzleY, 2, 2, light);
    c.set(5, muzzleY + 1, light);
    c.set(7, muzzleY, f.ink);
  }
  if (kind === "cat" && prng.chance(1, 2)) c.set(2, muzzleY + 1, dark);
  if (kind === "fox" || (kind === "cat" && prng.chance(1, 3))) c.ellipse(12, 2 * muzzleY + 1, 3, 3, light);
  drawCreatureEye(c, 5, headY2 / 2 - 1, eye, f);
}

/** A tail on the viewer's right of the body. */
function drawTail(c: SpriteCanvas, kind: AnimalKind, fur: number, tip: number): void {
  if (kind === "fox") {
    c.rect(12, 9, 2, 5, fur);
    c.rect(13, 8, 1, 1, tip);
  } else if (kind === "pig") {
    c.set(12, 11, fur);
    c.set(13, 10, fur);
  } else if (kind === "mouse") {
    c.line(12, 13, 14, 11, fur);
    c.set(14, 10, fur);
  } else {
    c.line(12, 13, 13, 10, fur);
    c.set(13, 9, fur);
  }
}
