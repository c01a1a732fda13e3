import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { writeLayer, type LayerFile } from "../../shared/image-building/oci/layer-writer.js";

const file = (path: string, content: string | Buffer, executable = false): LayerFile => ({
  path,
  executable,
  open: async () => ({ stream: Readable.from([Buffer.from(content)]), size: Buffer.byteLength(content) }),
});

async function entriesOf(blob: Buffer, gzipped = true) {
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
  extract.end(gzipped ? gunzipSync(blob) : blob);
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

  it("stores a layer that would not compress as a plain tar, whose digest is its diff id, and gzips one that would", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mm-layer-"));
    const weights = randomBytes(6 << 20);
    const raw = await writeLayer([file("var/app/model.bin", weights), file("var/app/a.txt", "small")], dir);
    expect(raw.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    expect(raw.digest).toBe(raw.diffId);
    const blob = readFileSync(join(dir, raw.digest.slice(7)));
    expect(blob.length).toBe(raw.size);
    expect((await entriesOf(blob, false)).map((e) => e.name)).toEqual(["var/", "var/app/", "var/app/a.txt", "var/app/model.bin"]);
    // The same files again: the same choice and the same bytes.
    expect(await writeLayer([file("var/app/a.txt", "small"), file("var/app/model.bin", weights)], dir)).toEqual(raw);

    const text = await writeLayer([file("var/app/words.txt", "the same words again and again ".repeat(300_000))], dir);
    expect(text.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(text.digest).not.toBe(text.diffId);
    expect(text.size).toBeLessThan(1 << 20);
    // gzip when told, whatever the content.
    const forced = await writeLayer([file("m.bin", weights)], dir, "gzip");
    expect(forced.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
  });
});
