import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, BlockList, type LookupFunction } from "node:net";
import { BuildFailure, displayUrl } from "./build-failure.js";

/**
 * Which URLs workers may fetch (model and asset urls are a server-side request forgery risk).
 * Entries are origins, with `*.` wildcards: `https://*.blob.core.windows.net`,
 * `http://127.0.0.1:10000` (the local Azurite). A URL is allowed when its scheme, host and port
 * match an entry; plain http only where an entry says http. Its host's addresses are checked
 * when the connection is made (no DNS rebinding): link-local, loopback, private and other
 * special addresses are refused, unless the entry names that IP address itself.
 */
export class UrlGuard {
  readonly #entries: { protocol: string; host: RegExp; port: string; literal: boolean }[];

  constructor(origins: string[]) {
    this.#entries = origins.map((origin) => {
      const m = /^(https?):\/\/(\*\.)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(\d+))?\/?$/.exec(origin.trim());
      if (!m) throw new Error(`"${origin}" is not an origin such as https://*.blob.core.windows.net or http://127.0.0.1:10000.`);
      const [, protocol, wildcard, host, port] = m;
      const escaped = host!.toLowerCase().replace(/[.[\]]/g, (c) => `\\${c}`);
      const bare = host!.replace(/^\[|\]$/g, "");
      return {
        protocol: `${protocol}:`,
        host: new RegExp(wildcard ? `^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.${escaped}$` : `^${escaped}$`),
        port: port ?? (protocol === "https" ? "443" : "80"),
        literal: !wildcard && isIP(bare) !== 0,
      };
    });
  }

  /** Checks a URL before fetching; returns the DNS lookup the connection must use. */
  check(raw: string): { url: URL; lookup: LookupFunction } {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new BuildFailure("UrlRefused", `"${raw.slice(0, 200)}" is not a URL.`);
    }
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    const host = url.hostname.toLowerCase();
    const entry = this.#entries.find((e) => e.protocol === url.protocol && e.port === port && e.host.test(host));
    if (!entry) {
      const why =
        url.protocol === "https:" || url.protocol === "http:"
          ? `its host ${url.host} is not on the allow-list (FETCH_ALLOWED_ORIGINS)`
          : `only https is fetched`;
      throw new BuildFailure("UrlRefused", `Refused to fetch ${displayUrl(url)}: ${why}.`);
    }
    const allowSpecial = entry.literal;
    // Connections to an IP literal skip the lookup below: check the address here.
    const literal = host.replace(/^\[|\]$/g, "");
    if (!allowSpecial && isIP(literal) !== 0 && isSpecialAddress(literal)) {
      throw new BuildFailure("UrlRefused", `Refused to fetch ${displayUrl(url)}: ${literal} is a private, loopback or link-local address.`);
    }
    const lookup: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, "", 4);
        const list = addresses as LookupAddress[];
        const bad = allowSpecial ? undefined : list.find((a) => isSpecialAddress(a.address));
        if (bad)
          return callback(
            Object.assign(new Error(`${hostname} resolves to ${bad.address}, a private, loopback or link-local address`), {
              code: "EADDRREFUSED",
            }),
            "",
            4,
          );
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
        const first = list[0]!;
        callback(null, first.address, first.family);
      });
    };
    return { url, lookup };
  }
}

const special = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  special.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  special.addSubnet(net, bits, "ipv6");

/** Loopback, private, link-local (cloud metadata lives there), multicast and other non-public addresses. */
export function isSpecialAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return special.check(address, "ipv4");
  if (family !== 6) return true;
  // An IPv4 address written as IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return special.check(mapped[1]!, "ipv4");
  if (/^::ffff:/i.test(address)) return true;
  return special.check(address, "ipv6");
}
