import type { BenchmarkResult } from "../../bench/harness.js";
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../support/local-stack.js";

const run = promisify(execFile);

/** Every benchmark runs on tiny sizes, so that `npm run bench` cannot rot between runs. */
describe("benchmarks (smoke run)", () => {
  it("runs every benchmark end to end and reports subject, baseline, ratio and targets", async () => {
    const out = mkdtempSync(join(tmpdir(), "mm-bench-smoke-"));
    await run(process.execPath, [join(PROJECT_ROOT, "dist", "bench", "run.js"), "--smoke", "--out", out], {
      cwd: PROJECT_ROOT,
      timeout: 240_000,
    });
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { benchmarks: Record<string, BenchmarkResult> };
    const { BENCHMARKS } = await import("../../bench/registry.js");
    expect(Object.keys(results.benchmarks).sort()).toEqual(BENCHMARKS.map((b) => b.name).sort());
    expect(BENCHMARKS.length).toBeGreaterThanOrEqual(21);
    for (const r of Object.values(results.benchmarks)) {
      expect(r.smoke).toBe(true);
      expect(r.subject.median).toBeGreaterThan(0);
      expect(r.targets.length).toBeGreaterThan(0);
      if (r.baseline.samples.length === 0) {
        // A load run: properties, no baseline. Even on tiny sizes, nothing acknowledged may be lost.
        expect(r.subject.metrics?.lost_writes, r.name).toBe(0);
        expect(r.subject.metrics?.acknowledged_writes, r.name).toBeGreaterThan(0);
        continue;
      }
      expect(r.baseline.median).toBeGreaterThan(0);
      expect(r.ratio).toBeCloseTo(r.subject.median / r.baseline.median, 6);
    }
    const markdown = readFileSync(join(out, "RESULTS.md"), "utf8");
    expect(markdown).toContain("| image-build |");
    expect(markdown).toContain("| image-rebuild |");
    expect(markdown).toContain("against tar -c <same files> | gzip -1");
  }, 300_000);
});
