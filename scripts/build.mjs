// `npm run build`: src/ compiled to dist/ (tsconfig.build.json), plus what dist/ reads from disk at
// run time: the database migrations (src/db/client.ts finds them beside itself). The sandbox, the
// emulators, the tests and the benchmarks are not built: production runs `node dist/main.js`.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);
cpSync(join(root, 'src/db/migrations'), join(dist, 'db/migrations'), { recursive: true });
console.log('built dist/: node dist/main.js');
