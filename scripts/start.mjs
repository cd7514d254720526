// `npm start` and `npm run sandbox`: sandbox/start.ts run as JavaScript compiled by
// scripts/compile-start.mjs (about 0.2 s, once per change of the sources), not under tsx. tsx's
// loader (a thread of its own, and the transformed sources it keeps) cost the sandbox about 80 MiB
// of its 400 MiB budget (docs/BENCHMARKS.md, "Footprint of `npm start`").
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiledStart } from './compile-start.mjs';

let out;
try {
  out = await compiledStart();
} catch (err) {
  process.stderr.write(`carebot could not be compiled to start: ${err.message ?? err}\n`);
  process.exit(1);
}
await import(pathToFileURL(join(out, 'sandbox', 'start.js')).href);
