import type { Benchmark } from "./harness.js";
import { imageBuild, imageRebuild } from "./image-build.js";
import { scoringBatching, scoringGateway, scoringServer, scoringServerUvicorn, scoringServerUvicorn64, serviceReady } from "./scoring.js";
import { controlPlaneBenchmarks } from "./control-plane.js";
import { loadMixed, loadMixedCrash } from "./load.js";
import { upload } from "./upload.js";
import { modelsScale } from "./models-scale.js";

/** Every benchmark `npm run bench` runs, in order. */
export const BENCHMARKS: Benchmark<unknown>[] = [
  ...controlPlaneBenchmarks,
  modelsScale,
  loadMixed,
  loadMixedCrash,
  imageBuild,
  imageRebuild,
  scoringGateway,
  scoringServer,
  scoringServerUvicorn,
  scoringServerUvicorn64,
  scoringBatching,
  serviceReady,
  upload,
];
