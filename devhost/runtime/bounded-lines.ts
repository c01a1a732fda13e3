import type { Readable } from "node:stream";

/**
 * Calls `onLine` for each line of a stream, and `onDropped` for each line longer than `maxBytes`,
 * which is skipped without being held: a replica's driver writes these lines, and a driver that
 * never writes a newline must not make the runtime buffer without end. (node:readline has no
 * bound on a line's length, hence this.)
 */
export function boundedLines(stream: Readable, maxBytes: number, onLine: (line: string) => void, onDropped: (bytes: number) => void): void {
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = 0;
  stream.on("data", (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (skipping > 0 || held + piece.length > maxBytes) onDropped(skipping + held + piece.length);
      else onLine(Buffer.concat([...parts, piece]).toString("utf8"));
      parts = [];
      held = 0;
      skipping = 0;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (skipping > 0 || held + rest.length > maxBytes) {
      skipping += held + rest.length;
      parts = [];
      held = 0;
    } else if (rest.length > 0) {
      parts.push(Buffer.from(rest));
      held += rest.length;
    }
  });
}
