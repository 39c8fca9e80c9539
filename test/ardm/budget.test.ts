/**
 * The budgeted parallel schedule (Hoogeboom et al. 2022, Sec. 4 and Appendix): the dynamic program
 * against brute force over every split of 1..D into at most B contiguous groups (D <= 8), and on
 * hand-made loss curves whose best split is known.
 */
import { describe, expect, it } from "vitest";
import { budgetSchedule, fixedGroups, groupsCost } from "../../src/lib/ardm/budget";
import { Prng } from "../../src/lib/data/sprites/prng";

/** Every composition of D into exactly `parts` positive sizes. */
function compositions(D: number, parts: number): number[][] {
  if (parts === 1) return [[D]];
  const out: number[][] = [];
  for (let first = 1; first <= D - parts + 1; first++) for (const rest of compositions(D - first, parts - 1)) out.push([first, ...rest]);
  return out;
}

/** The least cost over all splits into at most B groups, by enumeration. */
function bruteForce(losses: number[], budget: number): number {
  let best = Infinity;
  for (let parts = 1; parts <= budget; parts++) for (const groups of compositions(losses.length, parts)) best = Math.min(best, groupsCost(losses, groups));
  return best;
}

describe("budgetSchedule", () => {
  it("matches brute force on random loss curves for every D <= 8 and every budget", () => {
    const rng = new Prng(9);
    for (let D = 1; D <= 8; D++) {
      for (let trial = 0; trial < 5; trial++) {
        const losses = Array.from({ length: D }, () => (5 * rng.nextUint32()) / 2 ** 32);
        if (trial % 2 === 0) losses.sort((a, b) => b - a); // the trained-model shape: L_t falls with t
        for (let budget = 1; budget <= D; budget++) {
          const schedule = budgetSchedule(losses, budget);
          expect(schedule.groups.length).toBeLessThanOrEqual(budget);
          expect(schedule.groups.reduce((a, b) => a + b, 0)).toBe(D);
          expect(schedule.cost).toBeCloseTo(groupsCost(losses, schedule.groups), 10);
          expect(schedule.cost).toBeCloseTo(bruteForce(losses, budget), 10);
        }
      }
    }
  });

  it("finds the known best split of hand-made curves", () => {
    // One hard first variable, then easy ones: decode the first alone, the rest together.
    expect(budgetSchedule([10, 1, 1, 1, 1, 1], 2)).toEqual({ groups: [1, 5], cost: 15 });
    // Two plateaus: split where the loss drops.
    expect(budgetSchedule([4, 4, 4, 1, 1, 1, 1], 2)).toEqual({ groups: [3, 4], cost: 16 });
    // Three calls on L = 8, 4, 2, 1, 1, 1: [1, 2, 3] costs 8 + 2 * 4 + 3 * 1 = 19, beating e.g. [1, 1, 4] (8 + 4 + 4 * 2 = 20).
    expect(budgetSchedule([8, 4, 2, 1, 1, 1], 3)).toEqual({ groups: [1, 2, 3], cost: 19 });
  });

  it("with B = D on a falling curve decodes one variable a call; one call decodes all", () => {
    const falling = Array.from({ length: 12 }, (_, t) => 3 / (t + 1));
    expect(budgetSchedule(falling, 12).groups).toEqual(new Array(12).fill(1));
    expect(budgetSchedule(falling, 1)).toEqual({ groups: [12], cost: 36 });
  });

  it("spends fewer calls than the budget when more would cost more (a rising curve)", () => {
    expect(budgetSchedule([1, 2, 3, 4], 4)).toEqual({ groups: [4], cost: 4 });
  });

  it("is quick at the sprites' size: D = 768, B = 768", () => {
    const losses = Array.from({ length: 768 }, (_, t) => 6 / Math.sqrt(t + 1));
    const started = Date.now();
    const schedule = budgetSchedule(losses, 768);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(schedule.groups).toEqual(new Array(768).fill(1));
    const twenty = budgetSchedule(losses, 20);
    expect(twenty.groups.length).toBe(20);
    expect(twenty.cost).toBeLessThan(groupsCost(losses, fixedGroups(768, Math.ceil(768 / 20))));
  });

  it("fixedGroups: ceil(D / k) groups of k, the last one the rest", () => {
    expect(fixedGroups(768, 1).length).toBe(768);
    expect(fixedGroups(768, 100)).toEqual([100, 100, 100, 100, 100, 100, 100, 68]);
    expect(fixedGroups(5, 5)).toEqual([5]);
  });
});
