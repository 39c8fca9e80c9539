import { describe, expect, it } from "vitest";
import { courseSchedule, linearSchedule } from "../../src/lib/diffusion/schedule";

describe("the course's linear schedule (T = 500)", () => {
  it("has T + 1 entries with alphaBar[0] = 1", () => {
    expect(courseSchedule.T).toBe(500);
    for (const a of [courseSchedule.beta, courseSchedule.alpha, courseSchedule.alphaBar]) expect(a.length).toBe(501);
    expect(courseSchedule.alphaBar[0]).toBe(1);
  });

  it("matches values computed independently (design.md, to 1e-5)", () => {
    // Pinned from the course's own torch computation: cumsum(log(1 - beta)).exp().
    const pinned: Array<[number, number]> = [
      [1, 0.99976],
      [100, 0.80947],
      [250, 0.27856],
      [500, 0.0062888],
    ];
    for (const [t, value] of pinned) expect(Math.abs(courseSchedule.alphaBar[t] - value), `t=${t}`).toBeLessThan(1e-5);
  });

  it("agrees with a closed form: log alphaBar_t = sum_{s<=t} log(1 - beta_s)", () => {
    for (const t of [1, 37, 250, 499, 500]) {
      let logSum = 0;
      for (let s = 0; s <= t; s++) logSum += Math.log(1 - (1e-4 + ((0.02 - 1e-4) * s) / 500));
      expect(courseSchedule.alphaBar[t]).toBeCloseTo(Math.exp(logSum), 12);
      expect(courseSchedule.sqrtAlphaBar[t] ** 2 + courseSchedule.sqrtOneMinusAlphaBar[t] ** 2).toBeCloseTo(1, 12);
    }
    expect(courseSchedule.beta[0]).toBeCloseTo(1e-4, 15);
    expect(courseSchedule.beta[500]).toBeCloseTo(0.02, 15);
  });

  it("builds other schedules (T = 1000, the MNIST lesson) and rejects bad ones", () => {
    const s = linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    expect(s.alphaBar.length).toBe(1001);
    expect(s.beta[500]).toBeCloseTo(1e-4 + 0.5 * (0.02 - 1e-4), 15);
    expect(s.alphaBar[1000]).toBeLessThan(1e-4);
    expect(() => linearSchedule({ T: 0, betaStart: 1e-4, betaEnd: 0.02 })).toThrow(/positive integer/);
    expect(() => linearSchedule({ T: 10, betaStart: 0.5, betaEnd: 0.1 })).toThrow(/betaStart <= betaEnd/);
  });

  it("is one object per configuration, so a checkpoint loaded twice shares its device copies", () => {
    expect(linearSchedule({ T: 500, betaStart: 1e-4, betaEnd: 0.02 })).toBe(courseSchedule);
    const a = linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    expect(linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 })).toBe(a);
    expect(linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.03 })).not.toBe(a);
  });
});
