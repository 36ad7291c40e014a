import type { onRequestHookHandler } from 'fastify';
import type { Config } from './config.ts';
import type { Catalogue } from './connectors/catalogue.ts';
import type { Vault } from './crypto/vault.ts';
import type { Db } from './db/database.ts';

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
}

/** The dependency bag services take, derived once per app from the context. */
export function serviceDeps(ctx: AppContext) {
  return {
    db: ctx.db,
    vault: ctx.vault,
    catalogue: ctx.catalogue,
    publicUrl: ctx.config.publicUrl,
    providerTimeoutMs: ctx.config.providerTimeoutMs,
  };
}
