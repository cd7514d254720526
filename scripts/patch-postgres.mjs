// Repairs a defect of postgres.js 3.4.9 (the PostgreSQL driver) in node_modules, after every install
// (package.json "postinstall"). docs/RELIABILITY.md, finding 2, tells the story; in short:
//
// A write under 1024 bytes is buffered (`chunk`) and flushed by `setImmediate(nextWrite)`. When the
// connection closes, `closed()` and `terminate()` cancel that immediate but neither forget the
// buffer nor the timer handle, and `closed()` sets `socket = null` until it reconnects. Then:
//  - a write made while the socket is null schedules `nextWrite`, which calls `null.write(...)`: a
//    TypeError thrown from an immediate, i.e. an uncaught exception that ends the process;
//  - the stale timer handle stops every later small write from being scheduled, and the stale bytes
//    would be sent first on the next socket: the connection never works again (each query on it
//    waits for the connect timeout).
// The repair: a closed connection forgets its buffer and timer, and `nextWrite` on a closed
// connection fails the waiting queries with CONNECTION_CLOSED (which callers handle) instead of
// throwing. Upstream: porsager/postgres issues 1066, 1154, 1208.
//
// package.json pins postgres to exactly 3.4.9, the version these edits are written for, and
// src/db/client.ts (driverGuardProblem) refuses to start on PostgreSQL when the loaded driver lacks
// them (another version, or `npm ci --ignore-scripts`). PGlite does not use this driver.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MARK = 'carebot: closed connection';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');
if (!existsSync(join(root, 'package.json'))) process.exit(0);
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const edits = [
  [
    'function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    `function nextWrite(fn) {\n    if (!socket) { // ${MARK}: fail what waits instead of throwing in an immediate\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)`,
  ],
  [
    '    clearImmediate(nextWriteTimer)\n    if (socket) {',
    `    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // ${MARK}: forget the unsent bytes\n    if (socket) {`,
  ],
  [
    '    clearImmediate(nextWriteTimer)\n    socket.removeListener',
    `    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // ${MARK}: forget the unsent bytes\n    socket.removeListener`,
  ],
];

let patched = 0;
for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
  const path = join(root, file);
  if (!existsSync(path)) continue;
  let text = readFileSync(path, 'utf8');
  if (text.includes(MARK)) continue;
  const missing = edits.filter(([from]) => !text.includes(from));
  if (missing.length > 0) {
    // Another version, laid out differently: say so rather than half-patch it.
    console.warn(
      `patch-postgres: postgres ${version} ${file} does not have the expected code; not patched (carebot will refuse to start on PostgreSQL)`,
    );
    continue;
  }
  for (const [from, to] of edits) text = text.replace(from, to);
  writeFileSync(path, text);
  patched += 1;
}
if (patched > 0)
  console.log(
    `patch-postgres: guarded postgres ${version} against writes after a closed connection (${patched} files)`,
  );
