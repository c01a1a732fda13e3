import { request as httpRequest } from "node:http";
import type { Readable } from "node:stream";
import { request as httpsRequest } from "node:https";
import { BuildFailure, displayUrl } from "./build-failure.js";
import type { UrlGuard } from "./url-guard.js";

export interface FetchedContent {
  /** The body, as a stream: never held in memory whole. */
  body: Readable;
  size: number | undefined;
  contentType: string | undefined;
}

const CONNECT_TIMEOUT_MS = 15_000;
const IDLE_TIMEOUT_MS = 60_000;

/**
 * GETs a URL through the guard. Redirects are not followed (a redirect could lead anywhere the
 * guard refuses); a non-2xx answer or a refused or unreachable host is a BuildFailure naming the
 * URL (without its query, which may hold a SAS signature).
 */
export function fetchContent(guard: UrlGuard, raw: string, what: string): Promise<FetchedContent> {
  const { url, lookup } = guard.check(raw);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (why: string) =>
      reject(new BuildFailure("ContentUnavailable", `Could not fetch ${what} from ${displayUrl(url)}: ${why}.`));
    const req = request(
      url,
      { method: "GET", lookup, timeout: CONNECT_TIMEOUT_MS, headers: { "user-agent": "model-management-builder" } },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          res.resume();
          return fail(status >= 300 && status < 400 ? `it answered ${status}, a redirect, which is not followed` : `it answered ${status}`);
        }
        res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
        const length = res.headers["content-length"];
        resolve({ body: res, size: length === undefined ? undefined : Number(length), contentType: res.headers["content-type"] });
      },
    );
    req.on("timeout", () => req.destroy(new Error("the connection timed out")));
    req.on("error", (err: NodeJS.ErrnoException) =>
      fail(err.code === "EADDRREFUSED" ? `refused, ${err.message}` : err.message || String(err.code)),
    );
    req.end();
  });
}
