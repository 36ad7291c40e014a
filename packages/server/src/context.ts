import type { onRequestHookHandler } from 'fastify';
import type { Config } from './config.ts';
import type { Catalogue } from './connectors/catalogue.ts';
import type { Vault } from './crypto/vault.ts';
import type { Db } from './db/database.ts';
import { providerPolicy } from './outbound/address-policy.ts';
import { createOutboundClient, type InProcessHandler, type OutboundClient } from './outbound/http-client.ts';
import { SANDBOX_ORIGIN } from './sandbox/constants.ts';
import { createSandboxProvider } from './sandbox/provider.ts';

/** What route plugins are given: the parsed config and the long-lived collaborators. */
export interface AppContext {
  config: Config;
  db: Db;
  vault: Vault;
  catalogue: Catalogue;
  /**
   * How platform routes find the project a request acts for: the API key by default; the console
   * mounts the same route plugins with its operator session and the project id from the path.
   */
  projectAuth?: onRequestHookHandler;
  /** Every call to a provider goes through it (address guard, no redirects, timeouts, pooling). */
  outbound: OutboundClient;
}

/**
 * Builds the context once per process from the opened database and key ring. In-process origins
 * (the sandbox provider) are wired here, so they work while the guard refuses loopback.
 */
export function createAppContext(parts: Omit<AppContext, 'outbound'>): AppContext {
  const inProcess: Record<string, InProcessHandler> = parts.config.sandbox
    ? { [SANDBOX_ORIGIN]: createSandboxProvider({ db: parts.db }) }
    : {};
  const outbound = createOutboundClient({
    policy: providerPolicy(parts.config.providerAllowedRanges),
    timeoutMs: parts.config.providerTimeoutMs,
    inProcess,
  });
  return { ...parts, outbound };
}

/** The dependency bag services take, derived once per app from the context. */
export function serviceDeps(ctx: AppContext) {
  return {
    db: ctx.db,
    vault: ctx.vault,
    catalogue: ctx.catalogue,
    publicUrl: ctx.config.publicUrl,
    outbound: ctx.outbound,
  };
}
