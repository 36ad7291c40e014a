import fs from 'node:fs';
import path from 'node:path';

/** Every file below dir whose bytes contain needle: for proving a secret never reached the disk. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (fs.readFileSync(file).includes(Buffer.from(needle))) hits.push(file);
  }
  return hits;
}
