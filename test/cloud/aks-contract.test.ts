import { afterAll, beforeAll } from "vitest";
import type { AksComputeTarget } from "../../shared/compute/aks/aks-compute-target.js";
import { FakeAks } from "../support/fake-aks.js";
import { computeTargetContract } from "../support/compute-target-contract.js";

let aks: FakeAks;
let target: AksComputeTarget;

beforeAll(async () => {
  aks = await new FakeAks().start();
  // A progress deadline of 10 s, lasting 1 s here: broken rollouts fail fast, slow ones not before the test abandons them.
  aks.kube.msPerSecond = 100;
  target = aks.target({ progressDeadlineSeconds: 10 });
});
afterAll(async () => {
  await aks?.stop();
});

computeTargetContract("AKS (fake ARM and Kubernetes API server)", () => ({
  target,
  spec: (targetName, deploymentId, image) => ({
    targetName,
    deploymentId,
    // The fake cluster's pods never get ready for an image whose name says broken or slow.
    image: {
      location: `mmacr.azurecr.io/contract/${image}:1`,
      digest: `sha256:${({ good: "a", other: "b", broken: "c", slow: "d" } as const)[image].repeat(64)}`,
    },
    replicas: 1,
    maxConcurrentRequestsPerContainer: 5,
    keys: { primary: "p", secondary: "s" },
    env: {},
  }),
}));
