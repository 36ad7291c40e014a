// The production build of the server package: the hub bundle (packages/hub), the compiled JavaScript
// in dist/, and copies of what an installed package needs from the rest of the repository
// (connectors/*.json, the hub bundle, the licence), so the package works with no workspace around it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(packageDir, '../..');
const dist = join(packageDir, 'dist');

function run(command, args, cwd) {
  // Output goes to stderr, so `npm pack --json` (which runs this as prepack) keeps a clean stdout.
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    console.error(`build: "${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

// 1. The hub element, built by its own workspace (vite) unless its bundle is newer than everything it is
// built from. Rebuilding empties packages/hub/dist for a moment, which would break a test suite that
// serves the bundle while the package test packs (npm test builds the hub first).
const hubDir = join(repoRoot, 'packages/hub');
const hubBundle = join(hubDir, 'dist/plugboard-hub.js');
const newestInput = [
  ...readdirSync(join(hubDir, 'src'), { recursive: true }).map((f) => join(hubDir, 'src', String(f))),
  join(hubDir, 'vite.config.ts'),
  join(hubDir, 'package.json'),
  join(repoRoot, 'package-lock.json'),
].reduce((newest, file) => Math.max(newest, statSync(file).mtimeMs), 0);
if (!existsSync(hubBundle) || statSync(hubBundle).mtimeMs < newestInput) {
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '-w', '@plugboard/hub'], repoRoot);
}
if (!existsSync(hubBundle)) {
  console.error(`build: the hub build did not produce ${hubBundle}.`);
  process.exit(1);
}

// 1b. The console (packages/console), the same way: rebuilt only when its sources are newer.
const consoleDir = join(repoRoot, 'packages/console');
const consoleIndex = join(consoleDir, 'dist/index.html');
const newestConsoleInput = [
  ...readdirSync(join(consoleDir, 'src'), { recursive: true }).map((f) => join(consoleDir, 'src', String(f))),
  ...readdirSync(join(repoRoot, 'packages/tokens/src'), { recursive: true }).map((f) =>
    join(repoRoot, 'packages/tokens/src', String(f)),
  ),
  join(consoleDir, 'index.html'),
  join(consoleDir, 'vite.config.ts'),
  join(repoRoot, 'package-lock.json'),
].reduce((newest, file) => Math.max(newest, statSync(file).mtimeMs), 0);
if (!existsSync(consoleIndex) || statSync(consoleIndex).mtimeMs < newestConsoleInput) {
  run(
    process.platform === 'win32' ? 'npm.cmd' : 'npm',
    ['run', 'build', '-w', '@plugboard/console'],
    repoRoot,
  );
}
if (!existsSync(consoleIndex)) {
  console.error(`build: the console build did not produce ${consoleIndex}.`);
  process.exit(1);
}

// 2. TypeScript → JavaScript, from a clean dist/ so no file of a deleted module lingers.
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], packageDir);

// 3. What src/install-paths.ts reads from dist/assets/ when the package is installed.
const connectors = join(dist, 'assets/connectors');
mkdirSync(connectors, { recursive: true });
for (const file of readdirSync(join(repoRoot, 'connectors')).filter((f) => f.endsWith('.json'))) {
  copyFileSync(join(repoRoot, 'connectors', file), join(connectors, file));
}
cpSync(hubBundle, join(dist, 'assets/hub/plugboard-hub.js'));
// Plain JavaScript run in a child process on a first start (tsc copies no .mjs files).
copyFileSync(join(packageDir, 'src/db/create-cluster.mjs'), join(dist, 'db/create-cluster.mjs'));
cpSync(join(consoleDir, 'dist'), join(dist, 'assets/console'), { recursive: true });
copyFileSync(join(repoRoot, 'LICENSE'), join(packageDir, 'LICENSE'));
console.error(`build: ${dist} ready`);
