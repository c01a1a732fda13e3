import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { writeLayer, type LayerFile } from "../../shared/image-building/oci/layer-writer.js";

const file = (path: string, content: string, executable = false): LayerFile => ({
  path,
  executable,
  open: async () => ({ stream: Readable.from([Buffer.from(content)]), size: Buffer.byteLength(content) }),
});

async function entriesOf(blob: Buffer) {
  const extract = tarStream.extract();
  const out: { name: string; mode: number; uid: number; gid: number; mtime: number; type: string }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (h, stream, next) => {
      out.push({ name: h.name, mode: h.mode!, uid: h.uid!, gid: h.gid!, mtime: h.mtime!.getTime(), type: h.type! });
      stream.on("end", next);
      stream.resume();
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  extract.end(gunzipSync(blob));
  await done;
  return out;
}

describe("layer writer", () => {
  it("writes the same bytes whatever the order files come in, with fixed owners, modes and times", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-layer-"));
    const a = await writeLayer([file("var/app/b.py", "b"), file("var/app/a.py", "a", true), file("var/x.txt", "x")], dir);
    const b = await writeLayer([file("var/x.txt", "x"), file("var/app/a.py", "a", true), file("var/app/b.py", "b")], dir);
    expect(b).toEqual(a);
    const blob = readFileSync(join(dir, a.digest.slice(7)));
    expect(blob.length).toBe(a.size);
    const entries = await entriesOf(blob);
    expect(entries.map((e) => e.name)).toEqual(["var/", "var/app/", "var/app/a.py", "var/app/b.py", "var/x.txt"]);
    expect(entries.every((e) => e.uid === 0 && e.gid === 0 && e.mtime === 0)).toBe(true);
    expect(entries.map((e) => e.mode.toString(8))).toEqual(["755", "755", "755", "644", "644"]);
  });

  it("gives different digests to different content, and refuses two files at one path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-layer-"));
    const a = await writeLayer([file("m.bin", "one")], dir);
    const b = await writeLayer([file("m.bin", "two")], dir);
    expect(a.digest).not.toBe(b.digest);
    await expect(writeLayer([file("m.bin", "1"), file("m.bin", "2")], dir)).rejects.toThrow(/Two files/);
  });
});
