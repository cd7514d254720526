import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { driverGuardProblem, POSTGRES_DRIVER_VERSION, postgresPackageRoot } from '../../src/db/client.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const MARK = 'carebot: closed connection';

/** A copy of the installed postgres.js package whose connection.js files are changed by `edit`. */
function driverCopy(edit: (text: string) => string, version?: string): string {
  const root = join(mkdtempSync(join(tmpdir(), 'carebot-pg-')), 'postgres');
  cpSync(postgresPackageRoot(), root, { recursive: true });
  for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
    const path = join(root, file);
    writeFileSync(path, edit(readFileSync(path, 'utf8')));
  }
  if (version) {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ ...pkg, version }));
  }
  return root;
}

describe('the PostgreSQL driver carebot runs on', () => {
  it('is pinned to exactly the version the install-time repair is written for', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(pkg.dependencies.postgres).toBe(POSTGRES_DRIVER_VERSION);
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].dependencies.postgres).toBe(POSTGRES_DRIVER_VERSION);
    expect(lock.packages['node_modules/postgres'].version).toBe(POSTGRES_DRIVER_VERSION);
  });

  it('is accepted as installed (repaired by npm ci)', () => {
    expect(driverGuardProblem(postgresPackageRoot())).toBeUndefined();
  });

  it('is refused without the repair, as after `npm ci --ignore-scripts`', () => {
    const root = driverCopy((text) => text.replaceAll(MARK, 'something else'));
    expect(driverGuardProblem(root)).toMatch(/lacks carebot's closed-connection repair/);
  });

  it('is refused when only part of the repair is there', () => {
    let seen = 0;
    const root = driverCopy((text) =>
      text.replace(new RegExp(MARK, 'g'), (m) => (seen++ % 3 === 2 ? 'x' : m)),
    );
    expect(driverGuardProblem(root)).toMatch(/lacks carebot's closed-connection repair/);
  });

  it('is refused in another version, whose code the repair may not fit', () => {
    const root = driverCopy((text) => text, '3.4.10');
    expect(driverGuardProblem(root)).toMatch(
      /postgres\.js 3\.4\.10 is installed, but carebot is pinned to 3\.4\.9/,
    );
  });
});
