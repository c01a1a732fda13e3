import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchmarkResult } from "./harness.js";
import type { Machine } from "./machine.js";

interface Results {
  machine: Machine;
  benchmarks: Record<string, BenchmarkResult & { machine: Machine }>;
}

/**
 * Merges new results into bench/results.json (a run of one benchmark keeps the others' last
 * figures, each with the machine and commit it was measured on) and rewrites bench/RESULTS.md.
 */
export function writeResults(dir: string, machine: Machine, results: BenchmarkResult[]): Results {
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, "results.json");
  const previous: Results | undefined = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, "utf8")) as Results) : undefined;
  const merged: Results = { machine, benchmarks: { ...(previous?.benchmarks ?? {}) } };
  for (const r of results) merged.benchmarks[r.name] = { ...r, machine };
  writeFileSync(jsonPath, JSON.stringify(merged, null, 2) + "\n");
  writeFileSync(join(dir, "RESULTS.md"), renderMarkdown(merged));
  return merged;
}

/** A table cell: a `|` in a label would end the cell. */
const cell = (text: string) => text.replace(/\|/g, "\\|");
/** A time; "–" where there is none (JSON keeps a missing baseline's NaN as null). */
const ms = (v: number | null) => (v === null || Number.isNaN(v) ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);

function renderMarkdown(results: Results): string {
  const m = results.machine;
  const lines = [
    "# Benchmark results",
    "",
    "Written by `npm run bench` (one benchmark: `npm run bench -- <name>`). Subject and baseline run",
    "interleaved, round by round, on the same machine in the same run; figures are medians with",
    "min–max. A ratio below 1 means the subject is faster than its baseline.",
    "",
    `Last run: ${m.date} on ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}, commit ${m.commit}.`,
    "",
    "| benchmark | subject | baseline | rounds | subject median (min–max) | baseline median (min–max) | ratio | peak RSS | targets |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of Object.values(results.benchmarks)) {
    const rss = r.subject.peakRssMb !== undefined ? `${r.subject.peakRssMb.toFixed(0)} MB` : "–";
    const targets = r.targets.map((t) => `${t.met ? "✅" : "❌"} ${t.description}`).join("<br>");
    lines.push(
      `| ${r.name} | ${cell(r.subject.label)} | ${cell(r.baseline.label)} | ${r.rounds} | ${ms(r.subject.median)} (${ms(r.subject.min)}–${ms(r.subject.max)}) | ${ms(r.baseline.median)} (${ms(r.baseline.min)}–${ms(r.baseline.max)}) | ${r.ratio === null || Number.isNaN(r.ratio) ? "–" : r.ratio.toFixed(2)} | ${rss} | ${targets} |`,
    );
  }
  lines.push("");
  for (const r of Object.values(results.benchmarks)) {
    lines.push(
      `## ${r.name}: ${r.title}`,
      "",
      `Measured ${r.machine.date} at commit ${r.machine.commit}${r.smoke ? " (smoke run: tiny sizes)" : ""}.`,
      "",
    );
    for (const n of r.notes) lines.push(`- ${n}`);
    for (const [side, summary] of [
      ["subject", r.subject],
      ["baseline", r.baseline],
    ] as const) {
      if (summary.metrics)
        lines.push(
          `- ${side} medians: ${Object.entries(summary.metrics)
            .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(1)}`)
            .join(", ")}`,
        );
    }
    lines.push(
      `- subject samples: ${r.subject.samples.map(ms).join(", ")}`,
      `- baseline samples: ${r.baseline.samples.map(ms).join(", ")}`,
      "",
    );
  }
  return lines.join("\n");
}
