import type { Config } from '../config.ts';
import { startServer } from '../server.ts';

const curlCreateSession = (publicUrl: string, lineBreaks: boolean) =>
  [
    `curl -u "$KEY:" -H 'content-type: application/json'`,
    `-d '{"origin_owner_id":"customer-42","origin_owner_name":"Acme Inc"}'`,
    `${publicUrl}/connect_sessions`,
  ].join(lineBreaks ? ' \\\n  ' : ' ');

/** Shown on the first start only: the key (unless the operator chose it) and how to use it right away. */
function firstStartText(
  created: { project_id: string; api_key: string; chosen: boolean },
  publicUrl: string,
  sandbox: boolean,
): string {
  if (created.chosen)
    return `Created the default project ${created.project_id} with the key from PLUGBOARD_BOOTSTRAP_API_KEY.`;
  return [
    `Created the default project ${created.project_id}. Its API key is shown this once, store it now:`,
    '',
    `    ${created.api_key}`,
    '',
    'Use it as the HTTP Basic username (empty password) or as a Bearer token. With KEY set to it, create a',
    "connect link (the response's auth_link_url is the page to open):",
    '',
    curlCreateSession(publicUrl, true),
    ...(sandbox
      ? [
          '',
          'On that page pick Sandbox, a demo provider built into Plugboard, and type the API key sandbox-good.',
        ]
      : []),
  ].join('\n');
}

/** `plugboard serve`: the HTTP API, until SIGTERM/SIGINT. */
export async function runServe(cfg: Config): Promise<void> {
  const server = await startServer(cfg, (created) => {
    process.stdout.write(`\n${firstStartText(created, cfg.publicUrl, cfg.sandbox)}\n\n`);
  });
  // Where to go next, on every start. The CLI can create links too, but with the embedded database only
  // while the server is stopped (one process per data directory), so the curl is the way shown for it.
  const curl = curlCreateSession(cfg.publicUrl, false);
  const howToLink = `POST ${cfg.publicUrl}/connect_sessions with the API key${
    server.database.kind === 'postgres'
      ? ' (or "npx plugboard sessions create --owner-id customer-42 --owner-name Acme")'
      : ''
  } and open the auth_link_url it returns`;
  server.app.log.info(
    {
      listening: server.url,
      database: server.database.kind,
      ...(server.database.kind === 'pglite' ? { data_dir: cfg.dataDir } : {}),
      api: cfg.publicUrl,
      docs: `${cfg.publicUrl}/docs`,
      create_link: curl,
    },
    `Plugboard listening on ${server.url} (database: ${server.database.kind}). API: ${cfg.publicUrl}, reference: ${cfg.publicUrl}/docs. To connect an account: ${howToLink}.`,
  );
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    server.app.log.info(
      { signal, graceMs: cfg.shutdownGraceMs },
      'draining: readiness is 503, finishing in-flight requests',
    );
    // Hard stop if something hangs, so an orchestrator never waits forever.
    setTimeout(() => process.exit(1), cfg.shutdownGraceMs + 15_000).unref();
    server.drain(cfg.shutdownGraceMs).then(
      () => process.exit(0),
      (err) => {
        server.app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
