import dns, { type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Webhook endpoints are URLs chosen by API callers, so without a guard the server could be made to POST
 * into its own network (cloud metadata, databases, admin panels). Only ordinary public unicast is reachable
 * unless the operator opts further ranges in.
 */
export interface AddressPolicy {
  /** ipaddr.js range names ('loopback', 'private', 'linkLocal', 'uniqueLocal', …) allowed besides 'unicast'. */
  allowedRanges: string[];
}

/** Non-public ranges (ipaddr.js names, IPv4 and IPv6) an operator may open to webhooks; others never. */
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
    readonly hostname?: string,
  ) {
    const target = hostname && hostname !== address ? `${hostname} (${address})` : address;
    let message: string;
    if (range === null) message = `webhook target ${target} is not a valid IP address`;
    else if ((CONFIGURABLE_RANGES as readonly string[]).includes(range)) {
      message =
        `webhook target ${target} is in the ${range} range, which is blocked; ` +
        `set PLUGBOARD_WEBHOOK_ALLOWED_RANGES=${range} to allow it (a comma-separated list: loopback, private, linkLocal, …)`;
    } else message = `webhook target ${target} is in the ${range} range, which webhooks cannot be sent to`;
    super(message);
  }
}

export class InvalidWebhookUrlError extends Error {
  override name = 'InvalidWebhookUrlError';
}

/** Throws BlockedAddressError unless `ip` is public unicast or in one of the policy's allowed ranges. */
export function checkAddress(ip: string, policy: AddressPolicy, hostname?: string): void {
  let range: string;
  try {
    // process() rather than parse(): ::ffff:127.0.0.1 must be judged as the IPv4 address it connects to,
    // not as IPv6 'ipv4Mapped'.
    range = ipaddr.process(ip).range();
  } catch {
    throw new BlockedAddressError(ip, null, hostname);
  }
  if (range === 'unicast' || policy.allowedRanges.includes(range)) return;
  throw new BlockedAddressError(ip, range, hostname);
}

/** Syntax-only checks shared by registration and sending; never touches the network. */
export function parseWebhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The input is not echoed: it may carry credentials, and this message ends up in API responses and logs.
    throw new InvalidWebhookUrlError('webhook URL must be an absolute http: or https: URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidWebhookUrlError(`webhook URL must use http: or https:, not ${parsed.protocol}`);
  }
  if (parsed.username || parsed.password) {
    // Node would turn these into a Basic auth header on every delivery, and they would sit in plain text
    // wherever endpoint URLs are listed.
    throw new InvalidWebhookUrlError(
      'webhook URL must not contain a username or password; receivers should verify the signature instead',
    );
  }
  return parsed;
}

/** The URL's host without IPv6 brackets, as net.isIP and dns.lookup expect it. */
export function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Registration-time check, so obviously internal targets are refused with a clear error up front. It is
 * advisory for hostnames (DNS can change before delivery); guardedLookup is the check that counts.
 */
export async function checkUrl(url: string, policy: AddressPolicy): Promise<URL> {
  const parsed = parseWebhookUrl(url);
  const host = bareHostname(parsed);
  if (isIP(host)) {
    checkAddress(host, policy);
    return parsed;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true });
  } catch {
    // An offline or DNS-less machine must still be able to register endpoints; every send re-checks.
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
