import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';
import { limitHeapGrowth } from '../src/runtime/heap-growth.ts';

test('PLUGBOARD_HEAP_GROWTH_PERCENT: 50 on PGlite and 25 on PostgreSQL by default, 0 allowed, nonsense refused', () => {
  assert.equal(loadConfig({}).heapGrowthPercent, 50);
  const postgres = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };
  assert.equal(loadConfig(postgres).heapGrowthPercent, 25);
  assert.equal(loadConfig({ ...postgres, PLUGBOARD_HEAP_GROWTH_PERCENT: '50' }).heapGrowthPercent, 50);
  assert.equal(loadConfig({ PLUGBOARD_HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent, 0);
  assert.equal(loadConfig({ PLUGBOARD_HEAP_GROWTH_PERCENT: '100' }).heapGrowthPercent, 100);
  for (const bad of ['-1', 'lots', '1.5', '1001'])
    assert.throws(
      () => loadConfig({ PLUGBOARD_HEAP_GROWTH_PERCENT: bad }),
      ConfigError,
      `PLUGBOARD_HEAP_GROWTH_PERCENT=${bad}`,
    );
});

test('the heap growth bound is set unless it is 0 or node was given its own', () => {
  assert.equal(limitHeapGrowth(0, []), false);
  assert.equal(limitHeapGrowth(50, ['--heap-growing-percent=20']), false);
  assert.equal(limitHeapGrowth(50, ['--expose-gc', '--heap_growing_percent=20']), false);
  assert.equal(limitHeapGrowth(50, ['--heap-growing-percent', '20']), false);
  // Other flags, including one that merely starts alike, do not count as the operator's choice.
  assert.equal(limitHeapGrowth(50, ['--max-semi-space-size=4', '--heap-growing-percentage']), true);
  assert.equal(limitHeapGrowth(50, []), true);
});
