/**
 * RSS of PGlite in the ways a server can come to hold it: `node --import tsx bench/pglite-memory.ts`.
 * Each variant runs in a fresh child process (one heap, one WebAssembly memory each) on its own
 * temporary data directory, answers one query, and reports its RSS; the parent prints one table, so
 * the figures come from one run on one machine. bench/memory-under-load.ts imports floorRss to
 * measure the floor beside its server.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const VARIANTS = {
  'initdb in this process (before: first start)': { create: 'inline' },
  'initdb in a child, then opened (after: first start)': { create: 'child' },
  'existing cluster opened (any restart)': { create: 'child', reopen: true },
  'existing cluster, initialMemory 128 MiB (the smallest PGlite 0.5 accepts)': {
    create: 'child',
    reopen: true,
    initialMemory: 128 * 1024 * 1024,
  },
  'existing cluster, shared_buffers 16MB': {
    create: 'child',
    reopen: true,
    postgresqlconf: ['shared_buffers = 16MB'],
  },
} as const;
export type Variant = {
  create: 'inline' | 'child';
  reopen?: boolean;
  initialMemory?: number;
  postgresqlconf?: readonly string[];
};

async function child(variant: Variant) {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugboard-mem-'));
  try {
    const pgdata = path.join(dir, 'pgdata');
    if (variant.create === 'child' && !variant.reopen) {
      const { openDatabase } = await import('../packages/server/src/db/database.ts');
      // openDatabase creates the cluster in a short-lived child, then opens it here.
      const handle = await openDatabase({ databaseUrl: undefined, dataDir: dir });
      await handle.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
      const rss = process.memoryUsage().rss;
      await handle.close();
      return rss;
    }
    if (variant.reopen) {
      // Created by another process, as if by an earlier run: this one only opens it.
      const script = fileURLToPath(new URL('../packages/server/src/db/create-cluster.mjs', import.meta.url));
      await new Promise<void>((resolve, reject) =>
        fork(script, [pgdata], { execArgv: [] }).once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`create-cluster exited with ${code}`)),
        ),
      );
    }
    const db = await PGlite.create(pgdata, {
      ...(variant.initialMemory ? { initialMemory: variant.initialMemory } : {}),
      ...(variant.postgresqlconf ? { postgresqlconf: [...variant.postgresqlconf] } : {}),
    });
    await db.query('select 1');
    const rss = process.memoryUsage().rss;
    await db.close();
    return rss;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The RSS in bytes of a fresh child process holding PGlite the way `variant` says, after one query. */
export function variantRss(variant: Variant, name = 'PGlite'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const c = fork(SELF, [JSON.stringify(variant)]);
    c.once('message', (m: { rss: number }) => resolve(m.rss));
    c.once('exit', (code) => code !== 0 && reject(new Error(`${name}: exit ${code}`)));
  });
}

/** PGlite's floor as Plugboard holds it: an existing cluster opened with Plugboard's settings, one query. */
export const floorRss = () =>
  variantRss(VARIANTS['existing cluster, shared_buffers 16MB'], 'the PGlite floor');

const SELF = fileURLToPath(import.meta.url);

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  if (process.argv[2]) {
    const rss = await child(JSON.parse(process.argv[2]) as Variant);
    process.send?.({ rss });
    process.exit(0);
  }
  console.log('| PGlite | RSS MB |\n|---|---:|');
  for (const [name, variant] of Object.entries(VARIANTS)) {
    const rss = await variantRss(variant, name);
    console.log(`| ${name} | ${(rss / 1024 / 1024).toFixed(0)} |`);
  }
  const bare = process.memoryUsage().rss;
  console.log(`| (this Node process, no PGlite) | ${(bare / 1024 / 1024).toFixed(0)} |`);
}
