import { buildCli } from './cli/commands.ts';
import { ConfigError } from './config.ts';
import { CatalogueError } from './connectors/catalogue.ts';
import { VaultError } from './crypto/vault.ts';
import { DataDirInUseError } from './db/data-dir-lock.ts';
import { DatabaseUnreachableError } from './db/database.ts';
import { DomainError } from './errors.ts';
import { RedisUnreachableError } from './http/redis.ts';

// CLI entry point: known failures print one clear line; anything else prints its stack.
buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    const errno = err as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
    if (
      err instanceof ConfigError ||
      err instanceof CatalogueError ||
      err instanceof DataDirInUseError ||
      err instanceof DatabaseUnreachableError ||
      err instanceof RedisUnreachableError ||
      err instanceof DomainError ||
      err instanceof VaultError
    ) {
      process.stderr.write(`plugboard: ${err.message}\n`);
    } else if (errno?.syscall === 'listen') {
      const where = `${errno.address ?? 'the address'}:${errno.port ?? ''}`;
      process.stderr.write(
        `plugboard: cannot listen on ${where} (${errno.code === 'EADDRINUSE' ? 'already in use' : errno.code}). Set PORT (and HOST) to a free address.\n`,
      );
    } else {
      process.stderr.write(`plugboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  });
