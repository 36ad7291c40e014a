// Creates a PGlite cluster (initdb) in the directory given as argv[2], then exits. Run in a
// short-lived child process by database.ts: initdb takes PGlite to several hundred MB of RSS that a
// WebAssembly instance never gives back, so the server opens the finished cluster in a fresh one.
// Plain JavaScript so it starts without the TypeScript loader.
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('create-cluster: the data directory is missing\n');
  process.exit(2);
}
const db = await PGlite.create(dir);
await db.query('select 1');
await db.close();
