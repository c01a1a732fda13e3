import type { ModelManagementApi } from "./api.js";
import { CliError, EXIT } from "./errors.js";

export interface OperationStatus {
  id: string;
  operationType: "Image" | "Service";
  resourceLocation?: string;
  state: "NotStarted" | "Running" | "Cancelled" | "Succeeded" | "Failed";
  createdTime?: string;
  endTime?: string;
  error?: { code: string; message: string };
}

interface WaitOptions {
  /** How long to wait before giving up (the operation goes on). */
  timeoutSeconds: number;
  pollMs: number;
  /** What the status line calls the work, e.g. `image iris v2`. */
  label: string;
  /** The image whose build log to stream while its build runs. */
  followImageLog?: string;
  stderr?: NodeJS.WriteStream;
}

const TERMINAL = new Set(["Succeeded", "Failed", "Cancelled"]);
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Waits for an operation with a live status line on stderr (a spinner, the state and the time
 * so far on a terminal; a line per change of state otherwise) and streams the image's build log
 * as it grows. Ctrl-C stops the waiting, not the work: it says how to pick the operation up again.
 */
export async function waitForOperation(api: ModelManagementApi, operationId: string, options: WaitOptions): Promise<OperationStatus> {
  const err = options.stderr ?? process.stderr;
  const tty = Boolean(err.isTTY);
  const started = Date.now();
  const log = options.followImageLog ? new LogFollower(api, options.followImageLog) : undefined;
  let lastState = "";
  let frame = 0;
  let statusShown = false;
  const clearStatus = (): void => {
    if (tty && statusShown) err.write("\r\x1b[K");
    statusShown = false;
  };
  const showStatus = (state: string): void => {
    const seconds = Math.round((Date.now() - started) / 1000);
    if (tty) {
      err.write(`\r\x1b[K${SPINNER[frame++ % SPINNER.length]} ${options.label}: ${state} (${seconds} s)`);
      statusShown = true;
    } else if (state !== lastState) {
      err.write(`${options.label}: ${state}\n`);
    }
    lastState = state;
  };
  let interrupted = false;
  const onInterrupt = (): void => {
    interrupted = true;
  };
  process.once("SIGINT", onInterrupt);
  try {
    for (;;) {
      const status = await api.get<OperationStatus>(`operations/${operationId}`);
      const lines = log ? await log.next() : [];
      if (lines.length > 0) {
        clearStatus();
        err.write(lines.map((l) => `  ${l}\n`).join(""));
      }
      if (TERMINAL.has(status.state)) {
        if (log) {
          const rest = await log.next(true);
          clearStatus();
          if (rest.length) err.write(rest.map((l) => `  ${l}\n`).join(""));
        }
        clearStatus();
        err.write(`${options.label}: ${status.state} after ${Math.round((Date.now() - started) / 1000)} s\n`);
        return status;
      }
      showStatus(status.state);
      if (interrupted) break;
      if (Date.now() - started > options.timeoutSeconds * 1000) {
        clearStatus();
        throw new CliError(
          `Stopped waiting after ${options.timeoutSeconds} s; operation ${operationId} is still ${status.state}. Follow it with: mm operation wait -i ${operationId}`,
        );
      }
      await sleepUnlessInterrupted(options.pollMs, () => interrupted);
      if (interrupted) break;
    }
    clearStatus();
    throw new CliError(
      `Stopped waiting; operation ${operationId} goes on. Follow it with: mm operation wait -i ${operationId}`,
      EXIT.interrupted,
    );
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

async function sleepUnlessInterrupted(ms: number, interrupted: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !interrupted()) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
}

/**
 * Reads an image's build log as it grows: the blob behind `imageBuildLogUri` only ever grows, so
 * each read asks for the bytes after those already shown (an HTTP range) and yields whole lines.
 */
class LogFollower {
  #uri: string | undefined;
  #offset = 0;
  #partial = "";

  constructor(
    private readonly api: ModelManagementApi,
    private readonly imageId: string,
  ) {}

  async next(final = false): Promise<string[]> {
    try {
      if (!this.#uri || final) this.#uri = (await this.api.get<{ imageBuildLogUri?: string }>(`images/${this.imageId}`)).imageBuildLogUri;
      if (!this.#uri) return [];
      const res = await fetch(this.#uri, { headers: { range: `bytes=${this.#offset}-` } });
      if (res.status === 416 || res.status === 404) {
        await res.arrayBuffer();
        return [];
      }
      const chunk = Buffer.from(await res.arrayBuffer());
      // A server that ignores the range sends the whole log: skip what was shown already.
      const fresh = res.status === 206 ? chunk : chunk.subarray(this.#offset);
      this.#offset += fresh.length;
      const text = this.#partial + fresh.toString("utf8");
      const lines = text.split("\n");
      this.#partial = lines.pop() ?? "";
      if (final && this.#partial) {
        lines.push(this.#partial);
        this.#partial = "";
      }
      return lines.filter((l) => l.length > 0);
    } catch {
      // The log is a courtesy: the operation's state decides the outcome.
      return [];
    }
  }
}
