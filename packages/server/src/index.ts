/**
 * The package's programmatic entry: start Plugboard inside another Node process (tests, custom
 * launchers). The `plugboard` command (bin/) is the usual way to run it.
 */
export { type Config, ConfigError, loadConfig } from './config.ts';
export { type RunningServer, startServer } from './server.ts';
