/**
 * The benchmark harness: every figure is measured side by side with its baseline, on the same
 * machine, in the same run, because these machines are shared and noisy. Subject and baseline
 * are interleaved round by round (alternating which goes first) after a warm-up.
 */

export interface Sample {
  /** Wall-clock time of one run. */
  ms: number;
  /** Peak resident memory of the measured process during the run, when it is sampled. */
  peakRssMb?: number;
  /** Other figures of the run (requests per second, latency percentiles …), reported as medians. */
  metrics?: Record<string, number>;
}

interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
  peakRssMb?: number;
  /** The median of each metric across rounds. */
  metrics?: Record<string, number>;
}

export interface BenchmarkResult {
  name: string;
  title: string;
  subject: { label: string } & Summary;
  baseline: { label: string } & Summary;
  rounds: number;
  /** subject median / baseline median: below 1 the subject is faster. */
  ratio: number;
  targets: { description: string; met: boolean }[];
  notes: string[];
  smoke: boolean;
}

export interface BenchmarkContext {
  /** Tiny sizes and one round: checks the benchmark still runs (part of npm test). */
  smoke: boolean;
  workDir: string;
  log(message: string): void;
}

/**
 * What consecutive benchmarks may share, set up once and torn down after the last of them: a
 * local stack warmed up once serves several benchmarks, as a long-running host serves clients.
 */
export interface SharedFixture<S> {
  key: string;
  setup(ctx: BenchmarkContext): Promise<S>;
  teardown(shared: S): Promise<void>;
}

export interface Benchmark<F> {
  name: string;
  title: string;
  subjectLabel: string;
  baselineLabel: string;
  rounds: number;
  /**
   * Rounds of subject and baseline run first and thrown away, so that JIT compilation and caches
   * settle before anything is measured (default 1). 0 for benchmarks whose rounds take minutes:
   * their first round already warms caches, and the run must fit in 20 minutes.
   */
  warmUpRounds?: number;
  /** Set up before the first benchmark naming it, torn down after the last in a row (run.ts). */
  shared?: SharedFixture<unknown>;
  setup(ctx: BenchmarkContext, shared?: unknown): Promise<F>;
  subject(fixture: F, ctx: BenchmarkContext): Promise<Sample>;
  /** Absent for benchmarks that check properties rather than compare (the load runs). */
  baseline?(fixture: F, ctx: BenchmarkContext): Promise<Sample>;
  teardown(fixture: F): Promise<void>;
  /** Targets of the issue, checked on the summaries. */
  targets: { description: string; met(result: Omit<BenchmarkResult, "targets">): boolean }[];
  notes?(fixture: F): string[];
  /** Figures derived from the results (ratios at other percentiles…), reported with the notes. */
  findings?(result: Omit<BenchmarkResult, "targets">): string[];
}

function summarize(samples: Sample[]): Summary {
  const ms = samples.map((s) => s.ms);
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const rss = samples.map((s) => s.peakRssMb).filter((v): v is number => v !== undefined);
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.metrics ?? {})))];
  const metrics = Object.fromEntries(
    names.map((n) => [n, medianOf(samples.map((s) => s.metrics?.[n]).filter((v): v is number => v !== undefined))]),
  );
  return {
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    samples: ms,
    ...(rss.length ? { peakRssMb: Math.max(...rss) } : {}),
    ...(names.length ? { metrics } : {}),
  };
}

/** A metric's median for the subject over the baseline's; NaN where either lacks it (a target then fails). */
export function metricRatio(r: Pick<BenchmarkResult, "subject" | "baseline">, metric: string): number {
  return (r.subject.metrics?.[metric] ?? NaN) / (r.baseline.metrics?.[metric] ?? NaN);
}

export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function runBenchmark<F>(bench: Benchmark<F>, ctx: BenchmarkContext, shared?: unknown): Promise<BenchmarkResult> {
  const rounds = ctx.smoke ? 1 : bench.rounds;
  ctx.log(`${bench.name}: setting up${ctx.smoke ? " (smoke)" : ""}`);
  const fixture = await bench.setup(ctx, shared);
  try {
    const warmUpRounds = ctx.smoke || !bench.baseline ? 0 : (bench.warmUpRounds ?? 1);
    for (let round = 0; round < warmUpRounds; round++) {
      ctx.log(`${bench.name}: warm-up ${round + 1}/${warmUpRounds}`);
      await bench.subject(fixture, ctx);
      await bench.baseline!(fixture, ctx);
    }
    const subject: Sample[] = [];
    const baseline: Sample[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (["subject", "baseline"] as const) : (["baseline", "subject"] as const);
      for (const which of order) {
        if (which === "baseline" && !bench.baseline) continue;
        const sample = which === "subject" ? await bench.subject(fixture, ctx) : await bench.baseline!(fixture, ctx);
        (which === "subject" ? subject : baseline).push(sample);
        ctx.log(
          `${bench.name}: round ${round + 1}/${rounds} ${which} ${sample.ms.toFixed(1)} ms${sample.peakRssMb !== undefined ? `, peak RSS ${sample.peakRssMb.toFixed(0)} MB` : ""}`,
        );
      }
    }
    const s = summarize(subject);
    const b = baseline.length ? summarize(baseline) : { median: NaN, min: NaN, max: NaN, samples: [] };
    const partial = {
      name: bench.name,
      title: bench.title,
      subject: { label: bench.subjectLabel, ...s },
      baseline: { label: bench.baselineLabel, ...b },
      rounds,
      ratio: s.median / b.median,
      notes: bench.notes?.(fixture) ?? [],
      smoke: ctx.smoke,
    };
    partial.notes.push(...(bench.findings?.(partial) ?? []));
    return { ...partial, targets: bench.targets.map((t) => ({ description: t.description, met: t.met(partial) })) };
  } finally {
    await bench.teardown(fixture);
  }
}

/** Samples a process's resident memory while `work` runs; returns the peak, in MB. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  const { readFileSync } = await import("node:fs");
  let peak = 0;
  const sample = () => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // the process is gone
    }
  };
  sample();
  const timer = setInterval(sample, 25);
  try {
    const result = await work();
    sample();
    return { result, peakRssMb: peak };
  } finally {
    clearInterval(timer);
  }
}
