/**
 * The worker's cases on the networks other than ContextUnet, each against its PyTorch twin:
 * the attention UNet of configs/mnist.json (bench/attention_unet_torch.py, built from the same
 * file) and the ARDM's two networks at the sprites' size, the transformer (bench/ardm_torch.py) and
 * the convolutional UNet (bench/ardm_conv_torch.py), and the text model of models/text (its caption
 * encoder into the course's UNet, bench/caption_encoder_torch.py's text modes). See worker.ts for
 * what one repetition of each case is.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ardmTrainingLoss } from "../src/lib/ardm/loss";
import { drawMask, drawOrders } from "../src/lib/ardm/orders";
import { ARDM_SPRITE_TRANSFORMER, ArdmTransformer } from "../src/lib/ardm/transformer";
import { ARDM_SPRITE_CONV_UNET, ArdmConvUnet } from "../src/lib/ardm/convNetwork";
import { OnnxArdmNetwork } from "../src/lib/onnx/ardmOnnxNetwork";
import { attentionUnetConfigOf, scheduleConfigOf } from "../src/lib/config/ddpmConfig";
import { loadDdpmConfig } from "../src/lib/config/ddpmConfigFile";
import { sampleDdim } from "../src/lib/diffusion/sampling";
import { scheduleFromConfig } from "../src/lib/diffusion/schedule";
import { AttentionUnet } from "../src/lib/model/attentionUnet/attentionUnet";
import { courseSchedule } from "../src/lib/diffusion/schedule";
import { TextContextUnet } from "../src/lib/text/textContextUnet";
import { Adam } from "../src/lib/train/adam";
import { ddpmTrainer } from "../src/lib/train/ddpmRun";
import { Trainer } from "../src/lib/train/trainer";
import { loadNoiseModel } from "../src/lib/train/trainingCheckpoint";
import { ATTENTION_CONFIG_FILE, PROJECT_ROOT, TEXT_MODEL_DIR } from "./sides";
import { DDIM_STEPS, fixedData, syntheticBatch, timeDdpmStep, timeOnnxDdim, timeOnnxDdpmStep, timeReps, timeTrainer } from "./timing";

/** The ARDM recipe's peak learning rate (ARDM_TRAIN_DEFAULTS), the twin's Adam 1e-3. */
const ARDM_LEARNING_RATE = 1e-3;
/** ONNX Runtime's intra-op threads in ardm-onnx-step and ardm-conv-onnx-step: 2, as timing.ts's ONNX cases and the PyTorch reference. */
const ARDM_ONNX_THREADS = 2;

/** An attention UNet's config file (default configs/mnist.json, relative to the project root), checked by the library as `npm run train -- --config` checks it. */
export const attentionConfig = (file = ATTENTION_CONFIG_FILE) => loadDdpmConfig(join(PROJECT_ROOT, file));

/**
 * The attention UNet's Trainer steps as its config file's run makes them (ddpmTrainer; `batch`: the
 * config's batchSize unless --n says otherwise), on synthetic images of the config's shape.
 */
export async function timeAttentionTraining(warmup: number, reps: number, batch: number, configFile = ATTENTION_CONFIG_FILE) {
  const file = attentionConfig(configFile);
  const config = { ...file, training: { ...file.training, batchSize: batch } };
  const { imageSize, channels } = config.dataset;
  const fixed = syntheticBatch(batch, 7, [imageSize, imageSize, channels], 10);
  const trainer = ddpmTrainer(config, fixedData(fixed, warmup + reps));
  try {
    return await timeTrainer(trainer, warmup, reps);
  } finally {
    trainer.dispose();
    trainer.model.dispose();
    tf.dispose([fixed.images, fixed.labels]);
  }
}

/** The attention UNet of configs/mnist.json (weights from its training seed) on its own schedule: one DDPM step, or DDIM-25 (eps from TensorFlow.js or ONNX Runtime). */
export async function timeAttentionSampling(
  benchCase: "attention-sample" | "attention-ddim" | "attention-onnx-sample" | "attention-onnx-ddim",
  warmup: number,
  reps: number,
  batch: number,
) {
  const config = attentionConfig();
  const schedule = scheduleFromConfig(scheduleConfigOf(config));
  const model = new AttentionUnet(attentionUnetConfigOf(config), config.training.seed);
  try {
    if (benchCase === "attention-sample") return await timeDdpmStep(model, schedule, null, warmup, reps, batch);
    if (benchCase === "attention-onnx-sample") return await timeOnnxDdpmStep(model, schedule, null, warmup, reps, batch);
    if (benchCase === "attention-onnx-ddim") return await timeOnnxDdim(model, schedule, null, warmup, reps, batch);
    let seed = 11;
    return await timeReps(warmup, reps, async () => {
      const { samples, frames } = await sampleDdim(model, schedule, { count: batch, seed: seed++ }, null, { steps: DDIM_STEPS, saveFrame: () => false });
      tf.dispose([samples, ...(frames ? [frames] : [])]);
    });
  } finally {
    model.dispose();
  }
}

/**
 * The ARDM's transformer (ardm-*) or convolutional UNet (ardm-conv-*) at the sprites' size (Hoogeboom
 * et al. 2022) on random uint8 images [batch, D]: a training step (Algorithm 1's loss, Eq. 4, its
 * gradient, Adam) or the logits at one random decoding mask (from TensorFlow.js, or from ONNX Runtime
 * in the -onnx-step cases: the session built once, before the warm-up).
 */
export async function timeArdm(
  benchCase: "ardm-train" | "ardm-step" | "ardm-conv-train" | "ardm-conv-step" | "ardm-onnx-step" | "ardm-conv-onnx-step",
  warmup: number,
  reps: number,
  batch: number,
) {
  const model = benchCase.startsWith("ardm-conv-") ? new ArdmConvUnet(ARDM_SPRITE_CONV_UNET, 0) : new ArdmTransformer(ARDM_SPRITE_TRANSFORMER, 0);
  if (benchCase === "ardm-onnx-step" || benchCase === "ardm-conv-onnx-step") return timeArdmOnnxStep(model, warmup, reps, batch);
  const { dimensions: D, categories: K } = model;
  const x = tf.randomUniform([batch, D], 0, K, "int32", 5) as tf.Tensor2D;
  const adam = benchCase.endsWith("-train") ? new Adam(model.trainableParameters()) : null;
  let seed = 11;
  try {
    return await timeReps(warmup, reps, () => {
      if (adam) {
        const { value, grads } = tf.variableGrads(() => ardmTrainingLoss(model, x, seed++).mean);
        adam.apply(grads, ARDM_LEARNING_RATE);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
        return;
      }
      tf.tidy(() => {
        const logits = model.logits(x, drawMask(drawOrders(batch, D, seed++), D));
        tf.slice(logits, [0, 0, 0], [1, 1, 1]).dataSync();
      });
    });
  } finally {
    adam?.dispose();
    x.dispose();
    model.dispose();
  }
}

/** The logits of the network's ONNX twin at one random decoding mask, as ardm-step's; frees the model. */
async function timeArdmOnnxStep(model: ArdmTransformer | ArdmConvUnet, warmup: number, reps: number, batch: number) {
  const { dimensions: D, categories: K } = model;
  const x = tf.randomUniform([batch, D], 0, K, "int32", 5) as tf.Tensor2D;
  let onnx: OnnxArdmNetwork | null = null;
  let seed = 11;
  try {
    onnx = await OnnxArdmNetwork.fromNetwork(model, { threads: ARDM_ONNX_THREADS });
    const network = onnx;
    return await timeReps(warmup, reps, async () => {
      const mask = drawMask(drawOrders(batch, D, seed++), D);
      const logits = await network.logitsAsync(x, mask);
      tf.dispose([mask, logits]);
    });
  } finally {
    await onnx?.dispose();
    x.dispose();
    model.dispose();
  }
}

/**
 * The text model of models/text (its vocabulary, configs and weights) on random captions: a Trainer step at batch 100 as `npm run train -- --text` runs it (the course's
 * recipe, caption dropout 0.1, no EMA as the train row) on synthetic sprites, or one DDPM step at
 * batch 32 (eval forward, the encoder included, and the update).
 */
export async function timeText(benchCase: "text-train" | "text-sample" | "text-onnx-sample", warmup: number, reps: number, batch: number) {
  const { model } = loadNoiseModel(join(PROJECT_ROOT, TEXT_MODEL_DIR));
  if (!(model instanceof TextContextUnet)) {
    model.dispose();
    throw new Error(`${TEXT_MODEL_DIR} holds a ${model.constructor.name}, not the text model`);
  }
  const tokenIds = randomTokenIds(batch, model.encoder.config.maxTokens, model.encoder.config.vocabularySize, 3);
  try {
    if (benchCase === "text-sample") return await timeDdpmStep(model, courseSchedule, tokenIds, warmup, reps);
    if (benchCase === "text-onnx-sample") return await timeOnnxDdpmStep(model, courseSchedule, tokenIds, warmup, reps);
    const fixed = { images: syntheticBatch(batch, 7).images, labels: tokenIds.clone() };
    const trainer = new Trainer(model, fixedData(fixed, warmup + reps), { epochs: 1, batchSize: batch, useContext: true, emaDecay: null }, courseSchedule);
    try {
      return await timeTrainer(trainer, warmup, reps);
    } finally {
      trainer.dispose();
      tf.dispose([fixed.images, fixed.labels]);
    }
  } finally {
    tokenIds.dispose();
    model.dispose();
  }
}

/** [batch, maxTokens] float32 ids of captions of 1..maxTokens random words (ids 2..V-1), pads (0) after them, as the twin's. */
function randomTokenIds(batch: number, maxTokens: number, vocabularySize: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const lengths = tf.randomUniform([batch, 1], 1, maxTokens + 1, "int32", seed);
    const words = tf.randomUniform([batch, maxTokens], 2, vocabularySize, "int32", seed + 1);
    const isWord = tf.less(tf.range(0, maxTokens, 1, "int32").expandDims(0), lengths);
    return tf.cast(tf.where(isWord, words, tf.zerosLike(words)), "float32") as tf.Tensor2D;
  });
}
