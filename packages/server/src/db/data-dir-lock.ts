import fs from 'node:fs';
import path from 'node:path';

/**
 * PGlite lets only one process open a data directory; a second one would corrupt it. This lock file
 * makes the second process stop with an explanation instead.
 */
export class DataDirInUseError extends Error {
  readonly code = 'data_dir_in_use';
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string, purpose: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'plugboard.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }), {
        flag: 'wx',
      });
      const release = () => {
        try {
          if (readOwner(file)?.pid === process.pid) fs.unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
        throw new DataDirInUseError(
          `The data directory ${dataDir} is in use by another Plugboard process (pid ${owner.pid}, ${owner.purpose}). ` +
            'The embedded database allows one process at a time: stop that process and run this command again, ' +
            'or point both at a PostgreSQL server with DATABASE_URL so they can run side by side.',
        );
      }
      // The previous owner died without cleaning up: take the lock over.
      fs.rmSync(file, { force: true });
    }
  }
  throw new DataDirInUseError(
    `Could not lock the data directory ${dataDir}; remove ${file} if no Plugboard runs.`,
  );
}

function readOwner(file: string): { pid: number; purpose: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
