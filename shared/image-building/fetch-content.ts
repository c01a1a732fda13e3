import { request as httpRequest, type IncomingMessage } from "node:http";
import { Transform, type Readable } from "node:stream";
import { request as httpsRequest } from "node:https";
import { BuildFailure, displayUrl } from "./build-failure.js";
import type { UrlGuard } from "./url-guard.js";

export interface FetchedContent {
  /** The body, as a stream: never held in memory whole. */
  body: Readable;
  size: number | undefined;
  contentType: string | undefined;
  /** The content's strong ETag, when the origin gives one: what the layer cache knows it by. */
  etag?: string | undefined;
}

/** A strong ETag names these exact bytes; a weak one (`W/"…"`) only equivalent content. */
const strongEtag = (value: string | undefined): string | undefined => (value && !value.startsWith("W/") ? value : undefined);

const CONNECT_TIMEOUT_MS = 15_000;

/**
 * One request to a URL the guard passed (connecting only where it allows), no redirect
 * followed: the response, or why there is none (refused, unreachable, timed out), in words.
 */
function guardedRequest(checked: ReturnType<UrlGuard["check"]>, method: "GET" | "HEAD"): Promise<IncomingMessage> {
  const { url, lookup } = checked;
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, lookup, timeout: CONNECT_TIMEOUT_MS, headers: { "user-agent": "model-management-builder" } },
      resolve,
    );
    req.on("timeout", () => req.destroy(new Error("the connection timed out")));
    req.on("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRREFUSED" ? `refused, ${err.message}` : err.message || String(err.code))),
    );
    req.end();
  });
}

/**
 * GETs a URL through the guard. Redirects are not followed (a redirect could lead anywhere the
 * guard refuses); a non-2xx answer or a refused or unreachable host is a BuildFailure naming the
 * URL (without its query, which may hold a SAS signature).
 */
export async function fetchContent(guard: UrlGuard, raw: string, what: string): Promise<FetchedContent> {
  const checked = guard.check(raw);
  const { url } = checked;
  const fail = (why: string) => new BuildFailure("ContentUnavailable", `Could not fetch ${what} from ${displayUrl(url)}: ${why}.`);
  let res: IncomingMessage;
  try {
    res = await guardedRequest(checked, "GET");
  } catch (err) {
    throw fail((err as Error).message);
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    res.resume();
    throw fail(status >= 300 && status < 400 ? `it answered ${status}, a redirect, which is not followed` : `it answered ${status}`);
  }
  const length = res.headers["content-length"];
  return {
    body: res,
    size: length === undefined ? undefined : Number(length),
    contentType: res.headers["content-type"],
    etag: strongEtag(res.headers.etag),
  };
}

/**
 * The strong ETag a HEAD of the URL answers (through the guard, no redirect followed); undefined
 * when there is none or the HEAD fails: the GET that follows reports what is wrong.
 */
export async function headEtag(guard: UrlGuard, raw: string): Promise<string | undefined> {
  try {
    const res = await guardedRequest(guard.check(raw), "HEAD");
    res.resume();
    const status = res.statusCode ?? 0;
    return status >= 200 && status < 300 ? strongEtag(res.headers.etag) : undefined;
  } catch {
    return undefined;
  }
}

/** How much of one download a build accepts, and how long it waits for the next byte. */
export interface DownloadLimits {
  maxBytes: number;
  idleMs: number;
}

/**
 * The content with its faults made the build's: a body that errors (a reset), stalls (no byte for
 * `idleMs`), ends short of the size it announced, or grows past `maxBytes` fails with a
 * BuildFailure naming the URL without its query. The build then ends Failed, once, rather than
 * being retried, and nothing is thrown where no one listens.
 */
export function guardedContent(content: FetchedContent, what: string, url: string, limits: DownloadLimits): FetchedContent {
  const { maxBytes, idleMs } = limits;
  const fail = (why: string) => new BuildFailure("ContentUnavailable", `Could not fetch ${what} from ${displayUrl(url)}: ${why}.`);
  if (content.size !== undefined && content.size > maxBytes) {
    content.body.destroy();
    throw new BuildFailure(
      "ContentTooLarge",
      `${what} at ${displayUrl(url)} is ${content.size} bytes, over the ${maxBytes} a build fetches.`,
    );
  }
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      idle.refresh();
      seen += chunk.length;
      if (seen > maxBytes)
        return done(new BuildFailure("ContentTooLarge", `${what} at ${displayUrl(url)} grew past the ${maxBytes} bytes a build fetches.`));
      done(null, chunk);
    },
    flush(done) {
      done(content.size !== undefined && seen < content.size ? fail(`it ended after ${seen} of its ${content.size} bytes`) : null);
    },
  });
  // The timer runs while the consumer reads too: a slow disk is not a stalled origin, but a
  // consumer that stops reading for idleMs ends the download as well, which is what we want.
  const idle = setTimeout(() => {
    const stalled = fail(`no data for ${Math.round(idleMs / 1000)} s after ${seen} bytes`);
    counted.destroy(stalled);
    content.body.destroy();
  }, idleMs);
  idle.unref();
  counted.once("close", () => clearTimeout(idle));
  content.body.once("error", (err: Error) =>
    counted.destroy(err instanceof BuildFailure ? err : fail(err.message || "the download failed")),
  );
  content.body.pipe(counted);
  return { ...content, body: counted };
}
