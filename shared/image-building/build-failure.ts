/**
 * A build that cannot succeed as asked: a missing or refused asset, a bad archive, a driver that
 * does not compile. Retrying will not help; the operation ends Failed with this message, which
 * names the culprit. Any other error is taken as transient and the build is retried.
 */
export class BuildFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BuildFailure";
  }
}

/**
 * A build that goes on elsewhere (an ACR Tasks run): nothing to wait for in this invocation.
 * `state` is what the builder takes up again (ImageBuildRequest.resumeFrom) in `afterSeconds`.
 */
export class BuildPending extends Error {
  constructor(
    readonly state: Record<string, unknown>,
    readonly afterSeconds: number,
  ) {
    super(`the build goes on; look again in ${afterSeconds} s`);
    this.name = "BuildPending";
  }
}

/** A URL as it may be shown: without its query, which holds SAS signatures. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? "?…" : ""}`;
  } catch {
    return "(not a URL)";
  }
}
