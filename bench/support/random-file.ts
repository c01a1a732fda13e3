import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { randomBytes } from "node:crypto";

/** Writes `bytes` of incompressible data, streaming (never held in memory whole). */
export async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= 1 << 20) {
    if (!out.write(randomBytes(Math.min(left, 1 << 20)))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}
