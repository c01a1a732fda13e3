import { describe, expect, it } from "vitest";
import type { ComputeTarget, DeploymentSpec, RolloutState } from "../../shared/compute/compute-target.js";

export type ImageKind = "good" | "other" | "broken" | "slow";

interface ContractFixture {
  target: ComputeTarget;
  /**
   * A deployment of the service `targetName` running an image of that kind: `broken` fails
   * (crashes), `slow` is still not healthy long after the target's own deadline would matter.
   */
  spec(targetName: string, deploymentId: string, image: ImageKind): DeploymentSpec;
}

async function settle(target: ComputeTarget, name: string, deploymentId: string, timeoutMs = 60_000): Promise<RolloutState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await target.rolloutState(name, deploymentId);
    if (state.state !== "InProgress" || Date.now() > until) return state;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What every compute target does the same way (shared/compute/compute-target.ts): the local
 * runtime and AKS run this same suite. Target names end with six hex digits, as the API makes them.
 */
export function computeTargetContract(label: string, fixture: () => ContractFixture): void {
  describe(`${label}: the compute target contract`, () => {
    it("rolls a deployment out, then a second one that replaces it", async () => {
      const { target, spec } = fixture();
      await target.deploy(spec("contract-a1b2c3", "first", "good"));
      expect((await settle(target, "contract-a1b2c3", "first")).state).toBe("Succeeded");
      await target.deploy(spec("contract-a1b2c3", "second", "other"));
      expect((await settle(target, "contract-a1b2c3", "second")).state).toBe("Succeeded");
      expect(await target.rolloutState("contract-a1b2c3", "first")).toEqual({
        state: "Failed",
        error: "Another deployment of the service replaced this one.",
      });
      await target.delete("contract-a1b2c3");
    });

    it("runs a service whose name starts with a digit, as service names may", async () => {
      const { target, spec } = fixture();
      await target.deploy(spec("2017-iris-0a1b2c", "first", "good"));
      const state = await settle(target, "2017-iris-0a1b2c", "first");
      expect(state.state, state.error).toBe("Succeeded");
      if (state.scoringUri) expect(state.scoringUri).toMatch(/\/api\/v1\/service\/2017-iris-0a1b2c\/score$/);
      await target.delete("2017-iris-0a1b2c");
      expect((await target.rolloutState("2017-iris-0a1b2c", "first")).state).toBe("Failed");
    });

    it("fails a deployment that never becomes healthy and keeps the one that served", async () => {
      const { target, spec } = fixture();
      await target.deploy(spec("contract-d4e5f6", "good", "good"));
      expect((await settle(target, "contract-d4e5f6", "good")).state).toBe("Succeeded");
      await target.deploy(spec("contract-d4e5f6", "broken", "broken"));
      const failed = await settle(target, "contract-d4e5f6", "broken");
      expect(failed.state).toBe("Failed");
      expect(failed.error).toBeTruthy();
      expect((await settle(target, "contract-d4e5f6", "good")).state).toBe("Succeeded");
      await target.delete("contract-d4e5f6");
    });

    it("abandons a rollout that outlived its deadline and goes back to the one that served", async () => {
      const { target, spec } = fixture();
      await target.deploy(spec("contract-5a6b7c", "good", "good"));
      expect((await settle(target, "contract-5a6b7c", "good")).state).toBe("Succeeded");
      await target.deploy(spec("contract-5a6b7c", "slow", "slow"));
      expect((await target.rolloutState("contract-5a6b7c", "slow")).state).toBe("InProgress");
      const abandoned = await target.abandon("contract-5a6b7c", "slow", "it did not become healthy within 0.1 s");
      expect(abandoned.state).toBe("Failed");
      expect(abandoned.error).toContain("it did not become healthy within 0.1 s");
      expect((await settle(target, "contract-5a6b7c", "good")).state).toBe("Succeeded");
      expect((await target.rolloutState("contract-5a6b7c", "slow")).state).toBe("Failed");
      // Abandoning what already ended changes nothing.
      expect((await target.abandon("contract-5a6b7c", "good", "late")).state).toBe("Succeeded");
      await target.delete("contract-5a6b7c");
    });

    it("changes keys without a new deployment, shows logs, and forgets a deleted service", async () => {
      const { target, spec } = fixture();
      await target.deploy(spec("contract-0a0b0c", "only", "good"));
      expect((await settle(target, "contract-0a0b0c", "only")).state).toBe("Succeeded");
      await target.updateKeys("contract-0a0b0c", { primary: "new-primary", secondary: "new-secondary" });
      expect((await target.rolloutState("contract-0a0b0c", "only")).state).toBe("Succeeded");
      expect(typeof (await target.logs("contract-0a0b0c", 20))).toBe("string");
      await target.delete("contract-0a0b0c");
      expect((await target.rolloutState("contract-0a0b0c", "only")).state).toBe("Failed");
      await target.delete("contract-0a0b0c");
      expect(target.scoringUri("contract-0a0b0c")).toEqual(expect.any(String));
    });
  });
}
