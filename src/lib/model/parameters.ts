/**
 * Named model parameters: each weight has a stable key (PyTorch's state_dict name, e.g.
 * "down1.b1.conv1.0.weight") so that a weight file maps to layers by name, never by creation
 * order. Layouts are TensorFlow's (NHWC convolutions), documented per kind in `ParameterKind`.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * What a parameter is, which fixes its layout and its PyTorch-style initialisation:
 * - "conv":      filter [kh, kw, in, out]   (PyTorch [out, in, kh, kw] permuted 2,3,1,0)
 * - "convT":     filter [in, kh, kw, out]   (PyTorch ConvTranspose2d [in, out, kh, kw] permuted 0,2,3,1)
 * - "linear":    matrix [in, out]           (PyTorch [out, in] transposed)
 * - "bias":      [out]
 * - "ones"/"zeros": norm scales and shifts, BatchNorm running statistics
 */
export type ParameterKind = "conv" | "convT" | "linear" | "bias" | "ones" | "zeros";

export interface ParameterSpec {
  key: string;
  shape: number[];
  kind: ParameterKind;
  /** PyTorch's fan-in for the default init bound 1/sqrt(fanIn) (weights and their biases). */
  fanIn?: number;
  /** Running statistics are state, not trainable parameters. */
  trainable: boolean;
}

/** A plain, backend-free copy of weights: key -> values and shape. */
export type WeightMap = Record<string, { shape: number[]; data: Float32Array }>;

let storeCounter = 0;

/**
 * Owns a model's tf.Variables. Variables get a process-unique prefix because TensorFlow.js
 * refuses two variables with one name: a notebook cell that builds a second model still works.
 */
export class ParameterStore {
  readonly prefix: string;
  private readonly variables = new Map<string, tf.Variable>();
  private readonly specs = new Map<string, ParameterSpec>();
  /** False for a composite view: its variables belong to the stores it was made from. */
  private ownsVariables = true;

  constructor(modelName: string) {
    storeCounter += 1;
    this.prefix = `${modelName}_${storeCounter}`;
  }

  /**
   * One store over several networks' stores, each part's keys under its name ("encoder." +
   * "token_embedding.weight"), as PyTorch names a module's submodules: reading, assigning and
   * listing go to the parts' own variables. The view does not own them: its dispose() only
   * forgets them, and each part is freed by its own network; nothing can be created in it.
   */
  static composite(modelName: string, parts: Readonly<Record<string, ParameterStore>>): ParameterStore {
    const view = new ParameterStore(modelName);
    view.ownsVariables = false;
    for (const [name, part] of Object.entries(parts)) {
      for (const key of part.keys()) {
        view.variables.set(`${name}.${key}`, part.get(key));
        view.specs.set(`${name}.${key}`, { ...part.spec(key), key: `${name}.${key}` });
      }
    }
    return view;
  }

  /**
   * Creates a parameter, initialised as PyTorch does: weights and biases of conv, transposed
   * conv and linear layers from U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (kaiming_uniform with a = sqrt 5),
   * norm scales 1, shifts and running means 0, running variances 1.
   */
  create(spec: ParameterSpec, seed: number): tf.Variable {
    if (!this.ownsVariables) throw new Error(`Parameter "${spec.key}": ${this.prefix} is a composite view of other stores; create parameters in the part that owns them.`);
    if (this.variables.has(spec.key)) throw new Error(`Parameter "${spec.key}" is defined twice.`);
    const initial = tf.tidy(() => {
      switch (spec.kind) {
        case "ones":
          return tf.ones(spec.shape);
        case "zeros":
          return tf.zeros(spec.shape);
        default: {
          const bound = 1 / Math.sqrt(spec.fanIn ?? 1);
          return tf.randomUniform(spec.shape, -bound, bound, "float32", seed);
        }
      }
    });
    const variable = tf.variable(initial, spec.trainable, `${this.prefix}/${spec.key}`);
    initial.dispose();
    this.variables.set(spec.key, variable);
    this.specs.set(spec.key, spec);
    return variable;
  }

  get(key: string): tf.Variable {
    const variable = this.variables.get(key);
    if (!variable) throw new Error(`No parameter named "${key}".`);
    return variable;
  }

  keys(): string[] {
    return [...this.variables.keys()];
  }

  spec(key: string): ParameterSpec {
    return this.specs.get(key)!;
  }

  /** The trainable parameters by key, in creation order: what Adam's constructor takes. */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map(this.keys().filter((k) => this.specs.get(k)!.trainable).map((k) => [k, this.get(k)]));
  }

  trainableVariables(): tf.Variable[] {
    return [...this.trainableParameters().values()];
  }

  /** Number of trainable scalars (PyTorch's `sum(p.numel() for p in parameters())`). */
  trainableCount(): number {
    return this.trainableVariables().reduce((n, v) => n + v.size, 0);
  }

  /** Copies every parameter (trainable and state) to plain arrays. */
  async read(): Promise<WeightMap> {
    const out: WeightMap = {};
    for (const [key, variable] of this.variables) {
      out[key] = { shape: variable.shape.slice(), data: (await variable.data()) as Float32Array };
    }
    return out;
  }

  /**
   * Assigns every parameter from `weights`, which must hold exactly this store's keys with the
   * same shapes; the error lists what is missing, unexpected or mis-shaped.
   */
  assign(weights: WeightMap): void {
    const problems: string[] = [];
    const expected = new Set(this.keys());
    for (const key of Object.keys(weights)) {
      if (!expected.has(key)) problems.push(`unexpected weight "${key}"`);
    }
    for (const key of expected) {
      const w = weights[key];
      const shape = this.get(key).shape;
      if (!w) problems.push(`missing weight "${key}" [${shape}]`);
      else if (w.shape.join(",") !== shape.join(",")) {
        problems.push(`"${key}" has shape [${w.shape}], the model needs [${shape}]`);
      } else if (w.data.length !== this.get(key).size) {
        problems.push(`"${key}" has ${w.data.length} values for shape [${shape}]`);
      }
    }
    if (problems.length > 0) {
      throw new Error(`Weights do not fit the model:\n  ${problems.join("\n  ")}`);
    }
    for (const key of expected) {
      const value = tf.tensor(weights[key].data, weights[key].shape, "float32");
      this.get(key).assign(value);
      value.dispose();
    }
  }

  /** Frees the variables (a composite view only forgets them: their parts free them). */
  dispose(): void {
    if (this.ownsVariables) for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}
