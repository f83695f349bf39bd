// @coupons/generator as a library: the pipeline, the code rules and the exit codes the CLI uses.
export { generate, defaultConcurrency, defaultWorkerId, DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from "./pipeline.ts";
export type { GenerateOptions, GenerateResult, GenerationEvent } from "./pipeline.ts";
export { ALPHABET, DEFAULT_CODE_LENGTH, MAX_COLLISION_RATE, checkFeasibility, codeSource, codeSpace, drawDistinct } from "./codes.ts";
export type { Feasibility } from "./codes.ts";
export { EXIT, GeneratorError, exitCodeFor } from "./errors.ts";
export type { ExitCode, GeneratorErrorCode } from "./errors.ts";
export { main } from "./cli.ts";
export { launchGenerationJob, buildContainerGroup, containerGroupName, type LaunchOptions, type LaunchResult } from "./aci.ts";
