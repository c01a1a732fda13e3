import { describe, expect, it } from "vitest";
import { createServer } from "node:http";
import { UrlGuard, isSpecialAddress } from "../../shared/image-building/url-guard.js";
import { fetchContent } from "../../shared/image-building/fetch-content.js";
import { BuildFailure } from "../../shared/image-building/build-failure.js";

describe("the URL guard", () => {
  const guard = new UrlGuard(["https://*.blob.core.windows.net", "https://models.example.org", "http://127.0.0.1:10000"]);

  it("allows https to allow-listed hosts and wildcard subdomains", () => {
    expect(guard.check("https://acct.blob.core.windows.net/c/model.pkl?sig=x").url.hostname).toBe("acct.blob.core.windows.net");
    expect(guard.check("https://models.example.org/m.pkl").url.pathname).toBe("/m.pkl");
    expect(guard.check("http://127.0.0.1:10000/devstoreaccount1/c/b").url.port).toBe("10000");
  });

  it("refuses other hosts, ports and schemes, with a BuildFailure that hides the query", () => {
    for (const url of [
      "https://blob.core.windows.net.evil.com/x",
      "https://evil.com/x?sig=secret",
      "http://acct.blob.core.windows.net/x",
      "https://models.example.org:8443/m",
      "http://127.0.0.1:10001/x",
      "file:///etc/passwd",
      "ftp://models.example.org/m",
      "not a url",
    ]) {
      let error: unknown;
      try {
        guard.check(url);
      } catch (err) {
        error = err;
      }
      expect(error, url).toBeInstanceOf(BuildFailure);
      expect((error as BuildFailure).code).toBe("UrlRefused");
      expect((error as BuildFailure).message).not.toContain("secret");
    }
  });

  it("knows private, loopback, link-local and other special addresses", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
    ])
      expect(isSpecialAddress(a), a).toBe(true);
    for (const a of ["8.8.8.8", "20.60.1.1", "2001:4860:4860::8888"]) expect(isSpecialAddress(a), a).toBe(false);
  });

  it("refuses, when connecting, a host that resolves to a loopback address unless the entry names that address", async () => {
    const server = createServer((_req, res) => res.end("secret metadata"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      // An entry naming the loopback address itself makes it reachable (the local Azurite) …
      const allowed = new UrlGuard([`http://127.0.0.1:${port}`]);
      const ok = await fetchContent(allowed, `http://127.0.0.1:${port}/x`, "test");
      ok.body.resume();
      // … but an allow-listed name that resolves to loopback is refused when connecting.
      const byName = new UrlGuard([`http://localhost:${port}`]);
      await expect(fetchContent(byName, `http://localhost:${port}/x`, "asset a")).rejects.toThrow(
        /asset a.*refused, localhost resolves to 127\.0\.0\.1/,
      );
    } finally {
      server.close();
    }
  });

  it("does not follow redirects", async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 302;
      res.setHeader("location", "http://169.254.169.254/");
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(fetchContent(new UrlGuard([`http://127.0.0.1:${port}`]), `http://127.0.0.1:${port}/m`, "model m")).rejects.toThrow(
        /redirect, which is not followed/,
      );
    } finally {
      server.close();
    }
  });
});
