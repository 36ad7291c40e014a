import { buildCli } from './cli/commands.ts';
import { ConfigError } from './config.ts';
import { DataDirInUseError } from './db/data-dir-lock.ts';
import { DomainError } from './errors.ts';

// CLI entry point: known failures print one clear line; anything else prints its stack.
buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof ConfigError || err instanceof DataDirInUseError || err instanceof DomainError) {
      process.stderr.write(`plugboard: ${err.message}\n`);
    } else {
      process.stderr.write(`plugboard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  });
