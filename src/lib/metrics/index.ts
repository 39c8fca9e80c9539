/** Metrics: the sprite classifier (and its 28x28 sets' twins, and its kind and main-colour twins with the prompt-match measure), the sprite Frechet distance (SFD) and the 28x28 sets' FD, context accuracy, diversity, the likelihood in bits/dim. */
export { DEFAULT_CLASSIFIER_CONFIG, SpriteClassifier, classifyImages, type Classification, type ClassifierOutput, type SpriteClassifierConfig } from "./classifier";
export {
  DEFAULT_CLASSIFIER_TRAINING,
  confusionMatrix,
  crossEntropy,
  scoreClassifier,
  trainClassifier,
  type ClassifierEpochReport,
  type ClassifierScore,
  type ClassifierTrainConfig,
  type ClassifierTrainHooks,
} from "./classifierTraining";
export { CLASSIFIER_FORMAT, DEFAULT_CLASSIFIER_DIR, loadClassifier, readClassifierManifest, saveClassifier, type ClassifierManifest, type ImageSetClassifierRecord } from "./classifierFile";
export {
  SPRITE_ATTRIBUTE_NAMES,
  attributeClassNames,
  attributeClassRecords,
  attributeClassifierDir,
  attributeDataset,
  attributeValue,
  checkAttributeName,
  loadAttributeClassifier,
  mostConfusedPairs,
  type AttributeClassRecord,
  type AttributeClassifier,
  type AttributeClassifierRecord,
  type AttributeDataset,
  type ConfusedPair,
  type SpriteAttributeName,
} from "./attributeClassifier";
export { evaluateArdm, type ArdmEvaluation, type ArdmEvaluationOptions } from "./ardmEvaluation";
export { classifierFeatures, evaluateInversion, nearestKindReferences, nearestKindShare, spritesFromBytes, withoutToken, type InversionEvaluation, type InversionEvaluationOptions, type InversionPromptMatch, type NearestKindReferences } from "./inversionMatch";
export { evaluatePromptMatch, fnv1a, pooledShares, promptSeed, promptSetMatch, realPairShares, type MatchShares, type PromptMatchEvaluation, type PromptMatchEvaluationOptions, type PromptMatchRow, type PromptSetMatch } from "./promptMatchEvaluation";
export { attributeMatch, realAttributeMatch, realSpritesWithAttributes, type AttributeClassifiers, type AttributeMatch, type ExpectedAttributes, type RealSpritesWithAttributes } from "./attributeMatch";
export { IMAGE_SET_NAMES, checkClassifierFits, checkImageSetName, checkImagesFit, imageSetClassifierConfig, imageSetClassifierDir, imageSetPart, loadImageSetClassifier } from "./imageSetClassifier";
export { clippedNoiseImages, frechetAgainstTestSet, testImages, type ImageSetFrechetReport, type TestImages } from "./imageSetFrechet";
export { evaluateImageSetModel, type ImageSetModelEvaluation, type ImageSetModelEvaluationOptions } from "./imageSetModelEvaluation";
export { CLASSIFIER_SPLIT, SPRITE_SET_DIRS, heldOutRealSprites, realSpriteSet, type RealSpriteSet, type RealSprites } from "./realSprites";
export { checkSymmetric, multiply, sqrtPsd, symmetricEigen, traceSqrtPsd, type SymmetricEigen } from "./symmetricEigen";
export { fitGaussian, frechetDistance, type GaussianFit } from "./frechet";
export { NEAR_DUPLICATE_DISTANCE, diversity, nearestNeighbourDistances, rmsDistanceMatrix, summariseDistances, type DiversityReport } from "./diversity";
export { classShares, contextAccuracy, featureFit, sfdAgainstHeldOut, spriteFrechetDistance, type ContextAccuracy, type SfdReport } from "./evaluate";
export { diffusionTrainingSet, type DiffusionTrainingSet } from "./trainingSet";
export { evaluateDiffusionModel, type ModelEvaluation, type ModelEvaluationOptions } from "./modelEvaluation";
export { EVALUATION_FILE, findEvaluation, findImageSetEvaluation, findPromptMatchEvaluation, readEvaluations, recordEvaluation, recordImageSetEvaluation, recordPromptMatchEvaluation, recordInversionEvaluation, recordArdmEvaluation, findArdmEvaluation, type EvaluationFile } from "./evaluationFile";
export { noisePredictionErrorByStep, type StepError } from "./noisePredictionError";
export { boundNoise, unseenHeldOutSprites, variationalBound, type StepTerm, type UnseenSprites, type VariationalBound, type VariationalBoundOptions } from "./likelihood";
export { LIKELIHOOD_FILE, readLikelihoods, recordLikelihood, summariseTerms, type LikelihoodFile, type LikelihoodRecord } from "./likelihoodFile";
