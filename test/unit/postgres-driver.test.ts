import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// postgres.js 3.4.9 can end the process when a connection closes with a write buffered; install runs
// scripts/patch-postgres.mjs to repair it (docs/RELIABILITY.md, finding 2). Without the repair, a
// PostgreSQL restart can take carebot down: this says so before production does.
describe('the installed PostgreSQL driver', () => {
  it('carries the closed-connection repair (run `npm ci` or `node scripts/patch-postgres.mjs`)', () => {
    const root = fileURLToPath(new URL('../../node_modules/postgres/', import.meta.url));
    for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
      const text = readFileSync(join(root, file), 'utf8');
      expect(text, file).toContain('if (!socket) { // carebot: closed connection');
      expect(text.match(/chunk = nextWriteTimer = null \/\/ carebot/g), file).toHaveLength(2);
    }
  });
});
