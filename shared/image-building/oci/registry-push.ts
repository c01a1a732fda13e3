import { createReadStream } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import type { Descriptor } from "./media-types.js";

/**
 * Pushes an image to a registry with the OCI distribution API: each blob HEAD-checked, uploaded
 * when missing (POST then a monolithic PUT, streamed from disk), then the manifest PUT by tag.
 * Used for plain registries (Debian's docker-registry locally), where @azure/container-registry's
 * content client cannot serve (it refuses http endpoints and anonymous pushes).
 */
export async function pushToRegistry(options: {
  registry: string;
  plainHttp: boolean;
  repository: string;
  tag: string;
  manifest: Descriptor & { bytes: Buffer };
  blobs: { descriptor: Descriptor; path: string }[];
}): Promise<void> {
  const base = `${options.plainHttp ? "http" : "https"}://${options.registry}`;
  for (const { descriptor, path } of options.blobs) {
    const head = await send("HEAD", new URL(`${base}/v2/${options.repository}/blobs/${descriptor.digest}`));
    if (head.status === 200) continue;
    const start = await send("POST", new URL(`${base}/v2/${options.repository}/blobs/uploads/`));
    if (start.status !== 202 || !start.location)
      throw new Error(`The registry ${options.registry} refused to start an upload (${start.status}): ${start.text}`);
    const uploadUrl = new URL(start.location, base);
    uploadUrl.searchParams.set("digest", descriptor.digest);
    const put = await send("PUT", uploadUrl, { body: createReadStream(path), length: descriptor.size, type: "application/octet-stream" });
    if (put.status !== 201)
      throw new Error(`The registry ${options.registry} refused blob ${descriptor.digest} (${put.status}): ${put.text}`);
  }
  const put = await send("PUT", new URL(`${base}/v2/${options.repository}/manifests/${options.tag}`), {
    body: options.manifest.bytes,
    length: options.manifest.size,
    type: options.manifest.mediaType,
  });
  if (put.status !== 201) throw new Error(`The registry ${options.registry} refused the manifest (${put.status}): ${put.text}`);
  const digest = put.headers["docker-content-digest"];
  if (digest && digest !== options.manifest.digest)
    throw new Error(`The registry stored the manifest as ${String(digest)}, not ${options.manifest.digest}.`);
}

/**
 * Deletes an image manifest from a registry by digest (the distribution API deletes manifests,
 * with every tag that names them). Gone already is fine; a registry with deletes disabled says so.
 */
export async function deleteFromRegistry(options: {
  registry: string;
  plainHttp: boolean;
  repository: string;
  digest: string;
}): Promise<void> {
  const base = `${options.plainHttp ? "http" : "https"}://${options.registry}`;
  const answer = await send("DELETE", new URL(`${base}/v2/${options.repository}/manifests/${options.digest}`));
  if (answer.status === 202 || answer.status === 200 || answer.status === 404) return;
  if (answer.status === 405)
    throw new Error(
      `The registry ${options.registry} does not allow deletes (405): enable them (docker-registry: storage.delete.enabled: true).`,
    );
  throw new Error(
    `The registry ${options.registry} refused to delete ${options.repository}@${options.digest} (${answer.status}): ${answer.text}`,
  );
}

function send(
  method: string,
  url: URL,
  body?: { body: Readable | Buffer; length: number; type: string },
): Promise<{ status: number; location?: string; headers: IncomingMessage["headers"]; text: string }> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (body) {
      headers["content-type"] = body.type;
      headers["content-length"] = String(body.length);
    } else if (method === "POST") headers["content-length"] = "0";
    const req = request(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text.length < 2000 ? (text += c) : undefined));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, headers: res.headers, text: text.slice(0, 500) }),
      );
    });
    req.on("error", reject);
    if (!body) return req.end();
    if (Buffer.isBuffer(body.body)) return req.end(body.body);
    body.body.on("error", (err) => req.destroy(err));
    body.body.pipe(req);
  });
}
