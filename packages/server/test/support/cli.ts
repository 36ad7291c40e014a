import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './server.ts';

export const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = path.resolve(serverDir, '../..');
export const bin = path.join(serverDir, 'bin/plugboard.js');

/**
 * Only what the CLI needs: nothing from the test run's environment (no DATABASE_URL from CI), so
 * without one in extra it uses PGlite in dataDir.
 */
export function cliEnv(dataDir?: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(dataDir === undefined ? {} : { PLUGBOARD_DATA_DIR: dataDir }),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Runs `plugboard args` (or `command args`, e.g. npx) to the end; env is passed as given. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { command?: string; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { command = process.execPath, cwd = serverDir } = options;
  const argv = command === process.execPath ? [bin, ...args] : args;
  return new Promise((resolve) => {
    execFile(command, argv, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const servers: ChildProcess[] = [];

/**
 * Starts `plugboard serve` on a free port (or the one given, e.g. to build PLUGBOARD_PUBLIC_URL from it)
 * and waits until it has finished starting: /health/live answers and the start-up line (logged after
 * the first-start key is printed) is out.
 */
export async function serveCli(
  dataDir: string,
  extra: Record<string, string> = {},
  options: { port?: number } = {},
) {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: cliEnv(dataDir, { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...extra }),
    cwd: serverDir,
  });
  servers.push(child);
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`);
    if (attempt === 600)
      throw new Error(
        `serve did not finish starting (/health/live and its "Plugboard listening on" line, logged at LOG_LEVEL info) within a minute:\n${output}`,
      );
    const up = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (up && output.includes('Plugboard listening on')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, exited, output: () => output };
}

/** SIGKILLs every server serveCli started that is still running; for after(). */
export function killCliServers(): void {
  for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
}
