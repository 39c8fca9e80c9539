/**
 * Parallel decoding and its budgeted schedule (Hoogeboom et al. 2022, Sec. 4 "Parallelized ARDMs",
 * and their Appendix on the dynamic program; google-research/autoregressive_diffusion).
 *
 * Decoding several variables in one network call samples them independently given what is known,
 * so it costs likelihood. With L_t the expected loss of the variable decoded at step t (t - 1 given),
 * decoding the k variables of steps t..t+k-1 together, all from the state at step t, costs k * L_t
 * instead of L_t + ... + L_{t+k-1}. With a budget of B network calls, split the steps 1..D into at
 * most B contiguous groups minimising the summed cost:
 *   C[b][t] = min_{s < t} C[b - 1][s] + (t - s) * L_{s+1},   C[0][0] = 0,
 * the least cost of decoding the first t variables in exactly b groups; the answer is
 * min_{b <= B} C[b][D] (fewer calls are allowed, as in the paper's program, where a group may be
 * empty: with L_t non-increasing in t, as a trained model's are, splitting never hurts and all B
 * calls are used). O(B D^2) time: about 0.3 s for D = 768, B = 768.
 */
import { checkArdmInteger } from "./network";

/** Groups of k variables per call, the last one smaller if k does not divide D: ceil(D / k) calls. */
export function fixedGroups(D: number, k: number): number[] {
  checkArdmInteger("fixedGroups", "D", D, 1, Number.MAX_SAFE_INTEGER, "pass the number of variables.");
  checkArdmInteger("fixedGroups", "k (variables decoded per network call)", k, 1, D, "decode between 1 and D variables per call.");
  const groups = new Array<number>(Math.floor(D / k)).fill(k);
  if (D % k > 0) groups.push(D % k);
  return groups;
}

/** Throws unless `groups` are positive integers summing to D. */
export function checkArdmGroups(who: string, groups: ReadonlyArray<number>, D: number): void {
  const bad = groups.findIndex((size) => !Number.isInteger(size) || size < 1);
  if (bad >= 0) throw new Error(`${who}: group ${bad} has size ${groups[bad]}; every group decodes a positive integer number of variables.`);
  const total = groups.reduce((a, b) => a + b, 0);
  if (total !== D) throw new Error(`${who}: the group sizes sum to ${total}, but there are D = ${D} variables to decode; make them sum to D.`);
}

/** Throws unless `losses` are D >= 1 finite numbers (L_t for t = 1..D). */
function checkLosses(who: string, losses: ArrayLike<number>): void {
  if (losses.length < 1) throw new Error(`${who}: no per-step losses; pass L_t for t = 1..D (e.g. meanStepLosses of an orderNll).`);
  for (let t = 0; t < losses.length; t++) {
    if (!Number.isFinite(losses[t])) throw new Error(`${who}: L_${t + 1} is ${losses[t]}; every per-step loss must be a finite number.`);
  }
}

/** The cost of decoding in `groups`: sum over groups starting at step t of size * L_t. */
export function groupsCost(losses: ArrayLike<number>, groups: ReadonlyArray<number>): number {
  checkLosses("groupsCost", losses);
  checkArdmGroups("groupsCost", groups, losses.length);
  let cost = 0;
  let start = 0;
  for (const size of groups) {
    cost += size * losses[start];
    start += size;
  }
  return cost;
}

/** The schedule the dynamic program picks, and its cost. */
export interface BudgetSchedule {
  /** Group sizes in decoding order (at most `budget` of them), summing to D. */
  groups: number[];
  /** sum of size * L_t over the groups: the expected loss of sampling with them (nats). */
  cost: number;
}

/**
 * The split of steps 1..D into at most `budget` contiguous groups of least cost (see the module
 * comment); among splits of equal cost, the one with fewer calls.
 * @param losses  L_t for t = 1..D (losses[t - 1]), e.g. meanStepLosses(await orderNll(...)).
 * @param budget  network calls allowed, 1..D.
 */
export function budgetSchedule(losses: ArrayLike<number>, budget: number): BudgetSchedule {
  checkLosses("budgetSchedule", losses);
  const D = losses.length;
  checkArdmInteger("budgetSchedule", "the budget (network calls)", budget, 1, D, `allow between 1 call (all at once) and D = ${D} (one variable a call).`);
  const width = D + 1;
  const cost = new Float64Array((budget + 1) * width).fill(Infinity);
  const previous = new Int32Array((budget + 1) * width).fill(-1);
  cost[0] = 0;
  for (let b = 1; b <= budget; b++) {
    for (let t = b; t <= D; t++) {
      let best = Infinity;
      let bestS = -1;
      for (let s = b - 1; s < t; s++) {
        const candidate = cost[(b - 1) * width + s] + (t - s) * losses[s];
        if (candidate < best) {
          best = candidate;
          bestS = s;
        }
      }
      cost[b * width + t] = best;
      previous[b * width + t] = bestS;
    }
  }
  let calls = 1;
  for (let b = 2; b <= budget; b++) if (cost[b * width + D] < cost[calls * width + D]) calls = b;
  const groups: number[] = [];
  for (let b = calls, t = D; b > 0; b--) {
    const s = previous[b * width + t];
    groups.unshift(t - s);
    t = s;
  }
  return { groups, cost: cost[calls * width + D] };
}
