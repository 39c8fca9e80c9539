/**
 * The frame every lesson shares: a set-up cell, resources that live across cells, and a closing
 * tensor check.
 *
 *     const lesson = await startLesson();                        // backend, warm-up, quick mode
 *     const { model, schedule } = lesson.keep("model", () => loadModel("../models/context"));
 *     lesson.markBaseline();                                      // tensors that may stay
 *     ...                                                         // cells that free what they make
 *     lesson.checkTensors();                                      // throws on a leak
 *
 * Why a warm-up: TensorFlow.js backends cache a few constant tensors on the first forward and
 * backward pass (native TensorFlow keeps scalars it uploads). Made before the baseline, they do
 * not look like a leak of the first cell that samples or trains.
 *
 * Why a registry on globalThis: a learner re-runs cells. Re-running the set-up cell must free
 * what its previous run kept (a model's weights), and the kernel keeps one module instance per
 * session but a fresh `const` per run, so the kept resources live beside the module, by name.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type BackendChoice, describeBackend, initBackend } from "../backend";
import { type Schedule, courseSchedule } from "../diffusion/schedule";
import { scheduleTensors } from "../diffusion/scheduleTensors";
import { ContextUnet } from "../model/contextUnet";
import { type RunningStatUpdate, discardStatUpdates } from "../model/layers";
import { isQuickMode } from "./quick";

/** Anything that frees its tensors: a model, a classifier, a loaded checkpoint. */
export interface Disposable {
  dispose(): void;
}

/** Something kept across cells, and the tensors it holds if it was kept after the baseline. */
interface KeptValue {
  value: Disposable;
  tensorsAfterBaseline: number;
}

/** What lessons keep across cells (by name) and the tensor count they may end with. */
interface LessonState {
  kept: Map<string, KeptValue>;
  baseline: number | null;
}

/** What `keep` takes: a model, a trainer, one tensor, a loaded checkpoint `{ model, schedule }` or classifier `{ classifier }`. */
type Keepable = Disposable | { model: Disposable; schedule?: Schedule } | { classifier: Disposable };

const STATE_KEY = "__spriteDiffusionLesson";

function lessonState(): LessonState {
  const slot = globalThis as unknown as Record<string, LessonState | undefined>;
  slot[STATE_KEY] ??= { kept: new Map(), baseline: null };
  return slot[STATE_KEY]!;
}

/**
 * One forward pass and one gradient of a small ContextUnet, and the course schedule's device
 * copies: the backend's cached constants and the library's, made before the baseline.
 */
function warmUp(): void {
  scheduleTensors(courseSchedule);
  const model = new ContextUnet({ nFeat: 8 });
  try {
    tf.tidy(() => {
      const x = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
      model.predictNoise(x, 0.5, null);
      let statUpdates: RunningStatUpdate[] = [];
      tf.variableGrads(() => {
        const out = model.forwardTraining(x, 0.5, null);
        statUpdates = out.statUpdates;
        return tf.mean(out.predNoise) as tf.Scalar;
      }, model.trainableVariables());
      discardStatUpdates(statUpdates);
    });
  } finally {
    model.dispose();
  }
}

/** What frees a kept value: itself when it has dispose(), else its model or classifier. */
function ownerOf(value: Keepable): Disposable {
  if ("dispose" in value) return value as Disposable;
  return "model" in value ? value.model : value.classifier;
}

/** A lesson's session: see the file comment. Made by `startLesson`. */
export class Lesson {
  constructor(
    readonly backend: BackendChoice,
    readonly quick: boolean,
  ) {}

  /**
   * Keeps a value alive across cells under `name` and returns it: a model, a trainer, a loaded
   * checkpoint (`{ model, schedule }`) or classifier (`{ classifier, manifest }`), or a tensor a later cell reads. A value kept earlier under
   * the same name (a previous run of the cell) is disposed first, so re-running never leaks.
   * Pass a function that makes the value (`lesson.keep("model", () => new ContextUnet())`) to keep
   * it after the baseline: the tensors it makes are counted as the lesson's, not as a leak.
   * The lesson owns the value: `release(name)` or the next `startLesson` frees it.
   */
  keep<T extends Keepable>(name: string, valueOrMake: T | (() => T)): T {
    const state = lessonState();
    state.kept.get(name)?.value.dispose();
    state.kept.delete(name);
    const before = tf.memory().numTensors;
    const value = typeof valueOrMake === "function" ? valueOrMake() : valueOrMake;
    const made = typeof valueOrMake === "function" ? tf.memory().numTensors - before : value instanceof tf.Tensor ? 1 : 0;
    if ("schedule" in value && value.schedule) scheduleTensors(value.schedule); // the library's cached copies
    // A trainer has a model too, but frees its own state: anything with dispose() is its own owner.
    const disposable = ownerOf(value);
    state.kept.set(name, { value: disposable, tensorsAfterBaseline: state.baseline === null ? 0 : made });
    return value;
  }

  /** Frees what was kept under `name` (nothing when there is none). */
  release(name: string): void {
    const { kept } = lessonState();
    kept.get(name)?.value.dispose();
    kept.delete(name);
  }

  /** Records the tensor count the lesson must return to: call at the end of the set-up cell. */
  markBaseline(): void {
    const state = lessonState();
    state.baseline = tf.memory().numTensors;
    for (const kept of state.kept.values()) kept.tensorsAfterBaseline = 0; // now part of it
  }

  /** Tensors alive now beyond the baseline and the tensors kept since (0 when no cell leaked). */
  tensorsAboveBaseline(): number {
    const { baseline, kept } = lessonState();
    if (baseline === null) throw new Error("No baseline yet: run the set-up cell (it calls lesson.markBaseline()) first.");
    const keptSince = Array.from(kept.values()).reduce((sum, k) => sum + k.tensorsAfterBaseline, 0);
    return tf.memory().numTensors - baseline - keptSince;
  }

  /**
   * The closing check: prints the count and throws when a cell left tensors behind, so a leak
   * fails the lesson in the tests instead of scrolling past.
   */
  checkTensors(): void {
    const extra = this.tensorsAboveBaseline();
    const now = tf.memory().numTensors;
    if (extra !== 0) {
      throw new Error(
        `Tensor check: ${now} tensors alive, ${extra} ${extra > 0 ? "more" : "fewer"} than after set-up and the tensors kept since: ` +
          (extra > 0 ? "a cell leaked (dispose what it made, or lesson.keep(name, () => make()) it)." : "a cell disposed a tensor the lesson keeps."),
      );
    }
    console.log(`Tensor check: ${now} tensors, as after set-up: every cell freed what it made.`);
  }
}

/**
 * The set-up of every lesson: picks the backend (native TensorFlow, else wasm, else cpu) and
 * prints it, frees what an earlier run of the lesson kept, warms the backend up, and says
 * whether quick mode is on (SPRITE_DIFFUSION_QUICK, set by the tests).
 */
export async function startLesson(): Promise<Lesson> {
  const backend = await initBackend();
  const { kept } = lessonState();
  for (const { value } of kept.values()) value.dispose();
  kept.clear();
  lessonState().baseline = null;
  warmUp();
  const quick = isQuickMode();
  console.log(`${describeBackend(backend)}${quick ? "\nquick mode: smaller runs (SPRITE_DIFFUSION_QUICK is set)" : ""}`);
  return new Lesson(backend, quick);
}
