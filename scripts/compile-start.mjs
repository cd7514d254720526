// scripts/start.mjs's compiler: src/, sandbox/ and emulators/ transpiled file by file with esbuild
// (tsconfig has isolatedModules, so no type information is needed; `npm run typecheck` checks the
// types) into node_modules/.cache/carebot/start-<hash of the sources>/, beside copies of the files
// they read at run time (migrations, the sandbox page) and of package.json (src/ imports it; it also
// makes the folder ES modules). Unchanged sources reuse the folder, so a start after the first one
// builds nothing. Source maps are written beside the files: NODE_OPTIONS=--enable-source-maps shows
// TypeScript positions in stack traces. bench/footprint.ts uses it too.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['src', 'sandbox', 'emulators'];
// Built folders kept, most recently used first: another carebot may still run from one.
const KEEP = 3;

/** Every file under the source folders, sorted, paths relative to the repository. */
function sourceFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  for (const dir of SOURCES) walk(dir);
  return files.sort();
}

/** The folder of sandbox/start.js compiled from the current sources (built if it is not there yet). */
export async function compiledStart() {
  const files = sourceFiles();
  const hash = createHash('sha256');
  hash.update(readFileSync(join(root, 'package.json')));
  for (const file of files) hash.update(`${file}\0`).update(readFileSync(join(root, file)));
  const cache = join(root, 'node_modules', '.cache', 'carebot');
  const out = join(cache, `start-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(out, 'sandbox', 'start.js'))) {
    // Built aside and moved in whole: two starts at once must not see each other's half.
    const partial = `${out}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    const esbuild = await import('esbuild');
    try {
      await esbuild.build({
        entryPoints: files.filter((f) => f.endsWith('.ts')).map((f) => join(root, f)),
        outdir: partial,
        outbase: root,
        format: 'esm',
        platform: 'node',
        sourcemap: 'linked',
        logLevel: 'warning',
      });
    } finally {
      // esbuild's service process is not needed once built.
      await esbuild.stop();
    }
    for (const file of files.filter((f) => !f.endsWith('.ts'))) {
      mkdirSync(dirname(join(partial, file)), { recursive: true });
      copyFileSync(join(root, file), join(partial, file));
    }
    copyFileSync(join(root, 'package.json'), join(partial, 'package.json'));
    try {
      renameSync(partial, out);
    } catch (err) {
      rmSync(partial, { recursive: true, force: true });
      // Another start moved in the same build first.
      if (!existsSync(join(out, 'sandbox', 'start.js'))) throw err;
    }
  }
  // Marks it used, for pruning.
  writeFileSync(join(out, '.used'), '');
  const others = readdirSync(cache)
    .filter((name) => name.startsWith('start-') && join(cache, name) !== out && !name.endsWith('.partial'))
    .map((name) => {
      const marker = join(cache, name, '.used');
      return { path: join(cache, name), used: existsSync(marker) ? statSync(marker).mtimeMs : 0 };
    })
    .sort((a, b) => b.used - a.used);
  for (const old of others.slice(KEEP - 1)) rmSync(old.path, { recursive: true, force: true });
  return out;
}
