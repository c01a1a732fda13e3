import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runBenchmark, type BenchmarkResult, type SharedFixture } from "./harness.js";
import { describeMachine } from "./machine.js";
import { writeResults } from "./report.js";
import { BENCHMARKS } from "./registry.js";

/**
 * `npm run bench [-- <name> ...] [--smoke] [--out <dir>]`: runs the benchmarks (all by default)
 * and rewrites bench/RESULTS.md and bench/results.json.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes("--smoke");
  const outAt = args.indexOf("--out");
  const outDir = outAt >= 0 ? args[outAt + 1]! : join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench");
  const names = args.filter((a, i) => !a.startsWith("--") && (outAt < 0 || i !== outAt + 1));
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`Unknown benchmark(s): ${unknown.join(", ")}. Known: ${BENCHMARKS.map((b) => b.name).join(", ")}.`);
    process.exit(64);
  }
  const chosen = names.length ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;
  const machine = describeMachine();
  const results: BenchmarkResult[] = [];
  const log = (m: string) => console.log(`[${new Date().toISOString()}] ${m}`);
  let shared: { key: string; value: unknown; fixture: SharedFixture<unknown> } | undefined;
  for (const [i, bench] of chosen.entries()) {
    const workDir = mkdtempSync(join(tmpdir(), `mm-bench-${bench.name}-`));
    const ctx = { smoke, workDir, log };
    try {
      if (bench.shared && shared?.key !== bench.shared.key) {
        log(`${bench.shared.key}: setting up what the next benchmarks share`);
        shared = { key: bench.shared.key, value: await bench.shared.setup(ctx), fixture: bench.shared };
      }
      results.push(await runBenchmark(bench, ctx, bench.shared ? shared!.value : undefined));
    } finally {
      // Torn down once the next benchmark does not share it (or on a failure).
      if (shared && (chosen[i + 1]?.shared?.key !== shared.key || results.length <= i)) {
        await shared.fixture.teardown(shared.value);
        shared = undefined;
      }
      rmSync(workDir, { recursive: true, force: true });
    }
    const r = results[results.length - 1]!;
    // Written after each benchmark, so that a long run interrupted keeps what it measured.
    writeResults(outDir, machine, [r]);
    console.log(
      `${r.name}: subject ${r.subject.median.toFixed(0)} ms, baseline ${r.baseline.median.toFixed(0)} ms, ratio ${Number.isNaN(r.ratio) ? "–" : r.ratio.toFixed(2)}; ${r.targets.map((t) => `${t.met ? "met" : "MISSED"}: ${t.description}`).join("; ")}`,
    );
  }
  console.log(`Wrote ${join(outDir, "RESULTS.md")} and results.json.`);
}

await main();
