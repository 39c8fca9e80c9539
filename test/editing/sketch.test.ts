import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { SKETCHES, drawSketch, sketchByName, type Sketch } from "../../src/lib/editing/sketch";
import { useTestBackend } from "../helpers/backends";

beforeAll(async () => {
  await useTestBackend();
});

/** RGB 0..255 -> [-1, 1] as the data set maps it, rounded to float32 as a tensor holds it. */
const unit = (rgb: readonly number[]): number[] => rgb.map((v) => Math.fround((v / 255 - 0.5) / 0.5));

/** The colour of pixel (x, y) of a [1, size, size, 3] drawing. */
const pixel = (data: Float32Array | Int32Array | Uint8Array, size: number, x: number, y: number): number[] =>
  Array.from(data.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));

describe("drawSketch", () => {
  it("draws every preset as [1, 16, 16, 3] in [-1, 1] with a background corner", async () => {
    for (const name of ["hero", "food", "tool"]) expect(Object.keys(SKETCHES)).toContain(name);
    for (const sketch of Object.values(SKETCHES)) {
      const image = drawSketch(sketch);
      expect(image.shape).toEqual([1, 16, 16, 3]);
      const data = await image.data();
      expect(Math.min(...data)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...data)).toBeLessThanOrEqual(1);
      pixel(data, 16, 0, 0).forEach((v, c) => expect(v, `${sketch.name} corner`).toBeCloseTo(unit(sketch.background)[c], 6));
      image.dispose();
    }
  });

  it("colours a pixel inside a shape with its colour, later shapes over earlier ones", async () => {
    const sketch: Sketch = {
      name: "test",
      background: [255, 255, 255],
      shapes: [
        { kind: "rect", x: 2, y: 2, width: 6, height: 4, colour: [255, 0, 0] },
        { kind: "ellipse", x: 6, y: 4, width: 8, height: 8, colour: [0, 0, 255] },
      ],
    };
    const image = drawSketch(sketch);
    const data = await image.data();
    expect(pixel(data, 16, 2, 2)).toEqual(unit([255, 0, 0])); // rect's top-left pixel
    expect(pixel(data, 16, 6, 4)).toEqual(unit([255, 0, 0])); // in the ellipse's box, outside its curve
    expect(pixel(data, 16, 7, 5)).toEqual(unit([0, 0, 255])); // in both: the later ellipse wins
    expect(pixel(data, 16, 10, 8)).toEqual(unit([0, 0, 255])); // ellipse centre
    expect(pixel(data, 16, 7, 6)).toEqual(unit([0, 0, 255])); // ellipse, below the rect
    expect(pixel(data, 16, 8, 2)).toEqual(unit([255, 255, 255])); // just right of the rect
    expect(pixel(data, 16, 6, 11)).toEqual(unit([255, 255, 255])); // ellipse box corner, outside the curve
    image.dispose();
  });

  it("draws the presets' main shapes where they are described", async () => {
    const colourAt = async (name: string, x: number, y: number): Promise<number[]> => {
      const image = drawSketch(sketchByName(name));
      const data = await image.data();
      image.dispose();
      return pixel(data, 16, x, y);
    };
    const shapeColour = (name: string, k: number): number[] => unit(SKETCHES[name].shapes[k].colour);
    const heroShapes = SKETCHES.hero.shapes;
    expect(await colourAt("hero", 8, 3)).toEqual(shapeColour("hero", heroShapes.length - 1)); // head, drawn last
    expect(await colourAt("food", 8, 10)).toEqual(shapeColour("food", 1)); // the fruit
    expect(await colourAt("tool", 8, 10)).toEqual(shapeColour("tool", 0)); // the handle
  });

  it("scales with size and leaks nothing but its result", async () => {
    drawSketch(SKETCHES.food, 32).dispose();
    const before = tf.memory().numTensors;
    const image = drawSketch(SKETCHES.food, 32);
    expect(image.shape).toEqual([1, 32, 32, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const data = await image.data();
    expect(pixel(data, 32, 16, 20)).toEqual(unit(SKETCHES.food.shapes[1].colour));
    image.dispose();
  });

  it("rejects bad sizes, colours and shapes with the numbers", () => {
    expect(() => drawSketch(SKETCHES.tool, 0)).toThrow(/size must be a positive integer, got 0/);
    const bad: Sketch = { name: "bad", background: [255, 255, 300], shapes: [] };
    expect(() => drawSketch(bad)).toThrow(/background of sketch "bad" colour is \[255,255,300\]/);
    const flat: Sketch = { name: "flat", background: [0, 0, 0], shapes: [{ kind: "rect", x: 1, y: 1, width: 0, height: 2, colour: [0, 0, 0] }] };
    expect(() => drawSketch(flat)).toThrow(/shape 0 of sketch "flat" has x 1, y 1, width 0, height 2/);
  });
});

describe("sketchByName", () => {
  it("returns a preset and rejects an unknown name listing the sketches", () => {
    expect(sketchByName("hero")).toBe(SKETCHES.hero);
    expect(() => sketchByName("dragon")).toThrow(/no sketch "dragon"; the sketches are hero, food, tool/);
    expect(() => sketchByName("toString")).toThrow(/no sketch "toString"/);
  });

  it("hands out presets that cannot be changed by accident", () => {
    expect(Object.isFrozen(SKETCHES.food)).toBe(true);
    expect(Object.isFrozen(SKETCHES.food.shapes)).toBe(true);
    expect(Object.isFrozen(SKETCHES.food.shapes[0].colour)).toBe(true);
  });
});
