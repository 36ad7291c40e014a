import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where Plugboard's own files are. The same code runs from three places: the TypeScript sources in a
 * checkout (tsx), the compiled dist/ in a checkout (npm start), and the compiled dist/ of an installed
 * package. A checkout reads connectors/ and the hub bundle from the repository, so an edit needs no
 * copy step; an installed package reads the copies its build shipped in dist/assets/.
 */

// This file sits directly in src/ or dist/, both of which sit directly in the package directory.
export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const readJson = (file: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};

/** A Plugboard checkout: a workspace root whose packages/server is this server package. */
function isPlugboardRepository(dir: string): boolean {
  if (!Array.isArray(readJson(path.join(dir, 'package.json'))?.workspaces)) return false;
  return readJson(path.join(dir, 'packages/server/package.json'))?.name === '@plugboard/server';
}

/** The Plugboard checkout containing dir (dir itself or an ancestor), if any. */
export function findRepositoryRoot(dir: string): string | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (isPlugboardRepository(current)) return current;
    if (path.dirname(current) === current) return undefined;
  }
}

/** The checkout this package is part of; undefined for an installed package. */
const REPOSITORY_DIR = isPlugboardRepository(path.resolve(PACKAGE_DIR, '../..'))
  ? path.resolve(PACKAGE_DIR, '../..')
  : undefined;

/** Files the build copies into the package, so an installed package needs no workspace sibling. */
export const SHIPPED_ASSETS_DIR = path.join(PACKAGE_DIR, 'dist/assets');

/** One JSON file per connector. */
export const CONNECTORS_DIR = REPOSITORY_DIR
  ? path.join(REPOSITORY_DIR, 'connectors')
  : path.join(SHIPPED_ASSETS_DIR, 'connectors');

/** The hub element's production bundle (packages/hub, built by `npm run build`). */
export const HUB_BUNDLE_PATH = REPOSITORY_DIR
  ? path.join(REPOSITORY_DIR, 'packages/hub/dist/plugboard-hub.js')
  : path.join(SHIPPED_ASSETS_DIR, 'hub/plugboard-hub.js');

/** The console's production build (packages/console: index.html and assets/). */
export const CONSOLE_DIST_DIR = REPOSITORY_DIR
  ? path.join(REPOSITORY_DIR, 'packages/console/dist')
  : path.join(SHIPPED_ASSETS_DIR, 'console');

/**
 * The data directory used when PLUGBOARD_DATA_DIR is not set: `.plugboard` at the root of the
 * Plugboard checkout the process was started in (so `npm start`, `npm start -w …` and `npx plugboard`
 * from any folder of the repository share one database), otherwise `.plugboard` in the working directory.
 */
export function defaultDataDir(cwd: string = process.cwd()): string {
  return path.join(findRepositoryRoot(cwd) ?? path.resolve(cwd), '.plugboard');
}

/** The server package's version, for `plugboard --version`. */
export const PACKAGE_VERSION = String(readJson(path.join(PACKAGE_DIR, 'package.json'))?.version ?? '0.0.0');
