// The footprint benchmark's variants of `npm start`: the sandbox compiled by
// scripts/compile-start.mjs, started as sandbox/start.ts's runSandbox does, but with its two
// memory measures chosen here, to show what each is worth.
//
//   node bench/support/sandbox-variant.mjs <compiled folder> [liftoff] [gc]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const [folder, ...measures] = process.argv.slice(2);
if (measures.includes('liftoff')) setFlagsFromString('--liftoff-only');
const { startSandbox } = await import(pathToFileURL(join(folder, 'sandbox', 'index.js')).href);
const sandbox = await startSandbox({
  port: Number(process.env.PORT ?? 3000),
  logLevel: 'warn',
  logFormat: 'json',
});
process.once('SIGTERM', () => sandbox.stop().then(() => process.exit(0)));
if (measures.includes('gc')) {
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
}
process.stdout.write(`\ncarebot sandbox ready: open ${sandbox.url}/\n\n`);
