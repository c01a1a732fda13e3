/**
 * What a build did, step by step, with sizes and times: the text behind `imageBuildLogUri`.
 * Never holds secrets: URLs are written without their query (SAS signatures).
 */
export class BuildLog {
  readonly #lines: string[];
  readonly #started = Date.now();

  /** A new log, or one that goes on from what an earlier invocation of the same build wrote. */
  constructor(earlier?: string) {
    this.#lines = earlier ? earlier.replace(/\n$/, "").split("\n") : [];
  }

  /** Grows with every line: a flusher writes the log out when it changed. */
  get revision(): number {
    return this.#lines.length;
  }

  line(text: string): void {
    const elapsed = ((Date.now() - this.#started) / 1000).toFixed(3).padStart(8);
    this.#lines.push(`[${elapsed}s] ${text}`);
  }

  /** Runs a step, logging its duration and what `describe` says of its result (a number: a size). */
  async step<T>(name: string, work: () => Promise<T>, describe?: (result: T) => number | string | undefined): Promise<T> {
    const started = Date.now();
    this.line(`${name} …`);
    try {
      const result = await work();
      const said = describe?.(result);
      this.line(
        `${name}: done in ${Date.now() - started} ms${said === undefined ? "" : `, ${typeof said === "number" ? formatBytes(said) : said}`}`,
      );
      return result;
    } catch (err) {
      this.line(`${name}: FAILED after ${Date.now() - started} ms: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
