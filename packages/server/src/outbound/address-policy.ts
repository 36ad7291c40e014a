import dns, { type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Every URL Plugboard calls that a tenant can influence (webhook receivers, provider APIs, token and
 * authorize endpoints, the proxy) could otherwise point into the operator's own network: cloud metadata,
 * databases, admin panels. Only ordinary public unicast is reachable unless the operator opts further
 * ranges in, one setting per kind of target.
 */
export interface AddressPolicy {
  /** ipaddr.js range names ('loopback', 'private', 'linkLocal', 'uniqueLocal', …) allowed besides 'unicast'. */
  allowedRanges: string[];
  /** What is being called, for messages: "webhook target", "provider address". */
  subject: string;
  /** The environment variable that opens further ranges, named in messages so operators know what to set. */
  setting: string;
}

export const webhookPolicy = (allowedRanges: string[]): AddressPolicy => ({
  allowedRanges,
  subject: 'webhook target',
  setting: 'PLUGBOARD_WEBHOOK_ALLOWED_RANGES',
});

export const providerPolicy = (allowedRanges: string[]): AddressPolicy => ({
  allowedRanges,
  subject: 'provider address',
  setting: 'PLUGBOARD_PROVIDER_ALLOWED_RANGES',
});

/** Non-public ranges (ipaddr.js names, IPv4 and IPv6) an operator may open; others never. */
export const CONFIGURABLE_RANGES = [
  'loopback',
  'private',
  'linkLocal',
  'uniqueLocal',
  'carrierGradeNat',
  'unspecified',
  'reserved',
  'benchmarking',
] as const;

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';

  constructor(
    readonly address: string,
    /** The ipaddr.js range, or null when the address could not be parsed at all. */
    readonly range: string | null,
    policy: Pick<AddressPolicy, 'subject' | 'setting'>,
    readonly hostname?: string,
  ) {
    const target = hostname && hostname !== address ? `${hostname} (${address})` : address;
    const { subject, setting } = policy;
    let message: string;
    if (range === null) message = `${subject} ${target} is not a valid IP address`;
    else if ((CONFIGURABLE_RANGES as readonly string[]).includes(range)) {
      message =
        `${subject} ${target} is in the ${range} range, which is blocked; ` +
        `set ${setting}=${range} to allow it (a comma-separated list: loopback, private, linkLocal, …)`;
    } else message = `${subject} ${target} is in the ${range} range, which can never be reached`;
    super(message);
  }
}

export class InvalidUrlError extends Error {
  override name = 'InvalidUrlError';
}

/** Throws BlockedAddressError unless `ip` is public unicast or in one of the policy's allowed ranges. */
export function checkAddress(ip: string, policy: AddressPolicy, hostname?: string): void {
  let range: string;
  try {
    // process() rather than parse(): ::ffff:127.0.0.1 must be judged as the IPv4 address it connects to,
    // not as IPv6 'ipv4Mapped'.
    range = ipaddr.process(ip).range();
  } catch {
    throw new BlockedAddressError(ip, null, policy, hostname);
  }
  if (range === 'unicast' || policy.allowedRanges.includes(range)) return;
  throw new BlockedAddressError(ip, range, policy, hostname);
}

/**
 * Syntax-only checks shared by configuration and sending; never touches the network. The WHATWG parser
 * also normalises other spellings of an address (127.1, 2130706433, 0x7f000001) to the dotted form the
 * range check sees.
 */
export function parseHttpUrl(url: string, what = 'URL'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The input is not echoed: it may carry credentials, and this message ends up in API responses and logs.
    throw new InvalidUrlError(`${what} must be an absolute http: or https: URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidUrlError(`${what} must use http: or https:, not ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) {
    // Node would turn these into a Basic auth header on every call, and they would sit in plain text
    // wherever the URL is listed.
    throw new InvalidUrlError(`${what} must not contain a username or password`);
  }
  return parsed;
}

/** The URL's host without IPv6 brackets, as net.isIP and dns.lookup expect it. */
export function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Configuration-time check, so obviously internal targets are refused with a clear error up front. It is
 * advisory for hostnames (DNS can change before delivery); guardedLookup is the check that counts.
 */
export async function checkUrl(url: string, policy: AddressPolicy, what = 'URL'): Promise<URL> {
  const parsed = parseHttpUrl(url, what);
  const host = bareHostname(parsed);
  if (isIP(host)) {
    checkAddress(host, policy);
    return parsed;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true });
  } catch {
    // An offline or DNS-less machine must still be able to configure URLs; every call re-checks.
    return parsed;
  }
  for (const { address } of addresses) checkAddress(address, policy, host);
  return parsed;
}

/**
 * A `lookup` for http.request that refuses blocked addresses at connect time, which is what defeats DNS
 * rebinding (a name that resolved to a public address at registration and to 10.x now). Every resolved
 * address is checked, not just the one used, because with autoSelectFamily Node may try any of them.
 * Node skips `lookup` for IP literals, so callers must checkAddress those themselves.
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      try {
        for (const { address } of addresses) checkAddress(address, policy, hostname);
      } catch (blocked) {
        return callback(blocked as BlockedAddressError, []);
      }
      const [first] = addresses;
      if (!first) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound, []);
      }
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
