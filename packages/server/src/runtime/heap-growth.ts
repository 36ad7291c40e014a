import { setFlagsFromString } from 'node:v8';

/** The flag as node takes it on its command line or in NODE_OPTIONS (V8 accepts `_` for `-`). */
const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * Bounds how far V8 lets the heap grow past what is live before its next full collection
 * (PLUGBOARD_HEAP_GROWTH_PERCENT). Returns whether it set the bound.
 *
 * Under load, objects of requests still in flight survive young-generation collections and are
 * promoted, so the old generation fills with garbage; V8's own heuristic then lets the heap reach
 * several times the live set before it collects (measured: 47 MB live grew to 199 MB at 3,000
 * creates/s, RSS 390–420 MB on PGlite). With a growth of 50 % the heap stays near the live set and
 * full collections come about once a second under that load, a few milliseconds each, mostly
 * incremental: no throughput cost could be measured (docs/benchmarks.md, "Memory under load").
 *
 * It is a heuristic, not a limit: unlike --max-old-space-size it cannot make the process run out of
 * memory. A `--heap-growing-percent` given to node itself (argv or NODE_OPTIONS) wins.
 */
export function limitHeapGrowth(
  percent: number,
  nodeArgs: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS?.split(/\s+/) ?? [])],
): boolean {
  if (percent <= 0 || nodeArgs.some((arg) => FLAG.test(arg))) return false;
  // V8 reads the factor each time it sizes the heap after a collection, so it applies from here on.
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
