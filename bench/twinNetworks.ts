/**
 * The worker's cases on the networks other than ContextUnet, each against its PyTorch twin:
 * the attention UNet of configs/mnist.json (bench/attention_unet_torch.py, built from the same
 * file) and the ARDM's two networks at the sprites' size, the transformer (bench/ardm_torch.py) and
 * the convolutional UNet (bench/ardm_conv_torch.py). See worker.ts for
 * what one repetition of each case is.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ardmTrainingLoss } from "../src/lib/ardm/loss";
import { drawMask, drawOrders } from "../src/lib/ardm/orders";
import { ARDM_SPRITE_TRANSFORMER, ArdmTransformer } from "../src/lib/ardm/transformer";
import { ARDM_SPRITE_CONV_UNET, ArdmConvUnet } from "../src/lib/ardm/convNetwork";
import { attentionUnetConfigOf, scheduleConfigOf } from "../src/lib/config/ddpmConfig";
import { loadDdpmConfig } from "../src/lib/config/ddpmConfigFile";
import { sampleDdim } from "../src/lib/diffusion/sampling";
import { scheduleFromConfig } from "../src/lib/diffusion/schedule";
import { AttentionUnet } from "../src/lib/model/attentionUnet/attentionUnet";
import { Adam } from "../src/lib/train/adam";
import { ddpmTrainer } from "../src/lib/train/ddpmRun";
import { ATTENTION_CONFIG_FILE, PROJECT_ROOT } from "./sides";
import { DDIM_STEPS, fixedData, syntheticBatch, timeDdpmStep, timeOnnxDdim, timeOnnxDdpmStep, timeReps, timeTrainer } from "./timing";

/** The ARDM recipe's peak learning rate (ARDM_TRAIN_DEFAULTS), the twin's Adam 1e-3. */
const ARDM_LEARNING_RATE = 1e-3;

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
 * gradient, Adam) or the logits at one random decoding mask.
 */
export async function timeArdm(benchCase: "ardm-train" | "ardm-step" | "ardm-conv-train" | "ardm-conv-step", warmup: number, reps: number, batch: number) {
  const model = benchCase.startsWith("ardm-conv-") ? new ArdmConvUnet(ARDM_SPRITE_CONV_UNET, 0) : new ArdmTransformer(ARDM_SPRITE_TRANSFORMER, 0);
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
