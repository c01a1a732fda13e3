import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OciLayout } from "../../shared/image-building/oci/oci-layout.js";
import { MEDIA } from "../../shared/image-building/oci/media-types.js";

/** An image in the layout: a config and a "layer" blob, a manifest naming them, tagged `ref`. */
async function image(layout: OciLayout, ref: string, layer: string, shared = "shared layer") {
  const config = await layout.putJson(MEDIA.config, { ref });
  const layers = [await layout.putJson(MEDIA.layerGzip, { layer }), await layout.putJson(MEDIA.layerGzip, { shared })];
  const manifest = await layout.putJson(MEDIA.manifest, {
    schemaVersion: 2,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  await layout.tag(manifest, ref);
  return [manifest, config, ...layers].map((d) => d.digest);
}

/** Makes every blob of the layout look written a minute ago, as blobs of earlier builds are. */
function age(layout: OciLayout, digests: string[]) {
  const then = new Date(Date.now() - 60_000);
  for (const d of digests) utimesSync(layout.blobPath(d), then, then);
}

describe("garbage collection of the OCI layout", () => {
  it("removes the blobs of an untagged image, keeps a layer another image still uses until both are gone", async () => {
    const layout = new OciLayout(mkdtempSync(join(tmpdir(), "mm-gc-")));
    await layout.init();
    const first = await image(layout, "a/web:1", "first");
    const second = await image(layout, "a/web:2", "second");
    age(layout, [...first, ...second]);
    const sharedLayer = first[3]!;
    expect(second[3]).toBe(sharedLayer);

    await layout.untag("a/web:1");
    expect(await layout.collectGarbage()).toMatchObject({ removed: 3 });
    for (const d of first.slice(0, 3)) expect(existsSync(layout.blobPath(d))).toBe(false);
    for (const d of second) expect(existsSync(layout.blobPath(d))).toBe(true);

    await layout.untag("a/web:2");
    expect(await layout.collectGarbage()).toMatchObject({ removed: 4 });
    for (const d of second) expect(existsSync(layout.blobPath(d))).toBe(false);
  });

  it("spares what a build in progress wrote or reused before it tags its image", async () => {
    const layout = new OciLayout(mkdtempSync(join(tmpdir(), "mm-gc-")));
    await layout.init();
    const old = await image(layout, "a/old:1", "old", "reused layer");
    age(layout, old);
    await layout.untag("a/old:1");

    // A build starts, reuses the old image's layer (not tagged by anyone now) and writes its own.
    const build = layout.startBuild();
    const reused = await layout.putJson(MEDIA.layerGzip, { shared: "reused layer" });
    const fresh = await layout.putJson(MEDIA.layerGzip, { layer: "fresh" });
    expect(reused.digest).toBe(old[3]);
    await new Promise((r) => setTimeout(r, 300)); // the build goes on: its blobs are no longer brand new
    // A collection runs meanwhile: the old image's own blobs go, the build's stay.
    expect(await layout.collectGarbage()).toMatchObject({ removed: 3 });
    expect(existsSync(layout.blobPath(reused.digest))).toBe(true);
    expect(existsSync(layout.blobPath(fresh.digest))).toBe(true);
    build.end();
  });

  it("spares an old blob a build reuses while it runs, and tells a build that comes too late that it is gone", async () => {
    const layout = new OciLayout(mkdtempSync(join(tmpdir(), "mm-gc-")));
    await layout.init();
    const kept = (await image(layout, "a/kept:1", "kept", "kept too"))[2]!;
    const lost = (await image(layout, "a/lost:1", "lost", "lost too"))[2]!;
    age(layout, [kept, lost]);
    await layout.untag("a/kept:1");
    await layout.untag("a/lost:1");

    // A build reuses one old layer (a cached models layer); a collection runs meanwhile.
    const build = layout.startBuild();
    expect(await build.reuse(kept)).toBe(true);
    await layout.collectGarbage();
    expect(existsSync(layout.blobPath(kept))).toBe(true);
    expect(existsSync(layout.blobPath(lost))).toBe(false);
    expect(await build.reuse(lost)).toBe(false);
    // Once the build is over (without tagging anything that uses it), the layer goes.
    build.end();
    await layout.collectGarbage();
    expect(existsSync(layout.blobPath(kept))).toBe(false);
  });
});
