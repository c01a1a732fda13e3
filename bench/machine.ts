import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  commit: string;
  date: string;
}

export function describeMachine(): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    if (execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim())
      commit += " (with uncommitted changes)";
  } catch {
    // not a git checkout
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    commit,
    date: new Date().toISOString(),
  };
}
