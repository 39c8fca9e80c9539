/**
 * RePaint's schedule of jumps (Lugmayr et al. 2022, Sec. 4.2 "Resampling" and Fig. 4): walk down a
 * chain of `steps` reverse steps; every `jumpLength` steps, go back up `jumpLength` steps by
 * re-noising with the forward process and walk down again, `resamplings - 1` times, so the
 * generated region has several chances to agree with the known one. The paper uses T = 250,
 * jump length 10 and 10 resamplings: about ten times the model evaluations of plain sampling.
 *
 * A pure function of three integers on chain positions 0..steps (position i is timestep i * stride
 * of the sampler's chain; see editingChain.ts). Written from the paper's description.
 */

/** One move along the chain: a reverse step down one position, or a forward jump up `jumpLength`. */
export interface ChainMove {
  kind: "denoise" | "renoise";
  /** Chain position before the move. */
  from: number;
  /** Chain position after it: from - 1 for denoise, from + jumpLength for renoise. */
  to: number;
  /** How many times this same move was made before (0 on the first pass): seeds its fresh noise. */
  visit: number;
}

export interface RepaintJumps {
  /** Reverse steps in the chain, from position `steps` (pure noise) to 0 (the image). */
  steps: number;
  /** Positions to go back up at each jump (the paper: 10). */
  jumpLength: number;
  /** Passes over each stretch of the chain (the paper: 10); 1 is plain replacement, no jumps. */
  resamplings: number;
}

/** Throws unless the numbers make a schedule: positive integers, jumpLength <= steps. */
export function checkRepaintJumps({ steps, jumpLength, resamplings }: RepaintJumps): void {
  for (const [name, value] of [["steps", steps], ["jumpLength", jumpLength], ["resamplings", resamplings]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`RePaint: ${name} must be a positive integer, got ${value}.`);
  }
  if (jumpLength > steps) {
    throw new Error(`RePaint: jumpLength (${jumpLength}) cannot exceed the chain's ${steps} steps; use jumpLength <= ${steps}.`);
  }
}

/**
 * The moves of a RePaint run, in order. Jump points are the positions 0, L, 2L, ... with a full
 * stretch of L steps above them (position + L <= steps); arriving at one on the way down, the
 * walk goes back up L positions, resamplings - 1 times in all. Hence every reverse step from a
 * position p <= (last jump point) + L is made `resamplings` times, every one above it once, and
 * the model is evaluated (number of denoise moves) times.
 */
export function repaintMoves(config: RepaintJumps): ChainMove[] {
  checkRepaintJumps(config);
  const { steps, jumpLength, resamplings } = config;
  const jumpsLeft = new Map<number, number>();
  for (let point = 0; point + jumpLength <= steps; point += jumpLength) jumpsLeft.set(point, resamplings - 1);
  const visits = new Map<string, number>();
  const move = (kind: ChainMove["kind"], from: number, to: number): ChainMove => {
    const key = `${kind}:${from}`;
    const visit = visits.get(key) ?? 0;
    visits.set(key, visit + 1);
    return { kind, from, to, visit };
  };
  const moves: ChainMove[] = [];
  let position = steps;
  while (position > 0) {
    moves.push(move("denoise", position, position - 1));
    position -= 1;
    const left = jumpsLeft.get(position) ?? 0;
    if (left > 0) {
      jumpsLeft.set(position, left - 1);
      moves.push(move("renoise", position, position + jumpLength));
      position += jumpLength;
    }
  }
  return moves;
}

/** One pass down a chain of `steps` reverse steps, no jumps (RePaint with one resampling); none for steps = 0. */
export function replacementMoves(steps: number): ChainMove[] {
  return steps === 0 ? [] : repaintMoves({ steps, jumpLength: 1, resamplings: 1 });
}
