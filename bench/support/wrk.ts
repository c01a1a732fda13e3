import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

interface LoadResult {
  ms: number;
  requests: number;
  failures: number;
  rps: number;
  p50: number;
  p99: number;
}

interface WrkOptions {
  body: string;
  headers?: Record<string, string>;
  seconds: number;
  connections: number;
  /** Where the request script goes. */
  workDir: string;
}

/**
 * HTTP load from `wrk` (Debian's package), a native load generator: on a 2-core machine a load
 * generator written in Node spends as much CPU per request as the servers it measures, and the
 * comparison ends up measuring the generator. Keep-alive connections, POSTs with a JSON body,
 * bounded in time (it stops by itself). Throughput and latency percentiles are wrk's own.
 */
export function wrk(url: string, o: WrkOptions): Promise<LoadResult> {
  const script = join(o.workDir, "wrk-post.lua");
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${luaString(o.body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  const headers = Object.entries(o.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const args = ["-t1", `-c${o.connections}`, `-d${o.seconds}s`, "--latency", "-s", script, ...headers, url];
  return new Promise((resolve, reject) => {
    execFile("wrk", args, { encoding: "utf8", timeout: (o.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
        return reject(
          new Error(
            missing
              ? "This benchmark needs wrk, which is not installed. Install it with: apt-get install -y wrk"
              : `wrk failed: ${stderr || err.message}`,
          ),
        );
      }
      try {
        resolve(parseWrk(stdout));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}

function parseWrk(out: string): LoadResult {
  const number = (re: RegExp): number | undefined => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const latency = (pct: string): number => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!m) throw new Error(`wrk printed no ${pct}% latency:\n${out}`);
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const requests = number(/(\d+) requests in ([\d.]+)(?:ms|s|m)/);
  const rps = number(/Requests\/sec:\s+([\d.]+)/);
  if (requests === undefined || rps === undefined) throw new Error(`Could not read wrk's output:\n${out}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const failures =
    (number(/Non-2xx or 3xx responses: (\d+)/) ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  return { ms: (requests / rps) * 1000, requests, failures, rps, p50: latency("50"), p99: latency("99") };
}

function luaString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
