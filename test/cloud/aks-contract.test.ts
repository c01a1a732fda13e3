import { afterAll, beforeAll } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { AksComputeTarget } from "../../shared/compute/aks/aks-compute-target.js";
import { DEFAULT_AKS_SETTINGS } from "../../shared/compute/aks/kube-objects.js";
import { FakeKubeApiServer } from "../support/fake-kube-apiserver.js";
import { computeTargetContract } from "../support/compute-target-contract.js";

let fake: FakeKubeApiServer;
let target: AksComputeTarget;

beforeAll(async () => {
  fake = await new FakeKubeApiServer().start("contract-token");
  // A progress deadline of 10 s, lasting 1 s here: broken rollouts fail fast, slow ones not before the test abandons them.
  fake.msPerSecond = 100;
  target = new AksComputeTarget({
    settings: { ...DEFAULT_AKS_SETTINGS, progressDeadlineSeconds: 10 },
    access: async () => {
      const kc = new KubeConfig();
      // skipTLSVerify: the client allows the fake's plain http only so.
      kc.loadFromOptions({
        clusters: [{ name: "fake", server: fake.url, skipTLSVerify: true }],
        users: [{ name: "u", token: "contract-token" }],
        contexts: [{ name: "fake", cluster: "fake", user: "u" }],
        currentContext: "fake",
      });
      return kc;
    },
  });
});
afterAll(async () => {
  await fake?.stop();
});

computeTargetContract("AKS (fake Kubernetes API server)", () => ({
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
