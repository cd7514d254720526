/**
 * The Dockerfile and compose.yaml, read as text: there is no Docker on the build machines. CI runs
 * the Dockerfile's steps outside Docker (.ci/production-start --omit-dev); this checks what that
 * cannot: the run stage's user and command, the HEALTHCHECK's own behaviour, and compose.yaml.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const runStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const run = promisify(execFile);

/** The HEALTHCHECK's JavaScript, found as .ci/production-start finds it. */
function healthcheckScript(): string {
  const found = /^ {2}CMD \["node", "-e", "(.*)"\]$/m.exec(dockerfile);
  if (!found) throw new Error('no HEALTHCHECK CMD line in the Dockerfile');
  return JSON.parse(`"${found[1]}"`) as string;
}

describe('Dockerfile', () => {
  it('builds in one stage and runs the production install, as a non-root user, in the other', () => {
    expect(dockerfile).toMatch(/^FROM node:22-[\w-]+ AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --no-audit --no-fund$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(runStage).toMatch(/^FROM node:22-[\w-]+$/m);
    expect(runStage).toMatch(/^ENV NODE_ENV=production$/m);
    // scripts/ before the install: its postinstall repairs postgres.js.
    expect(runStage.indexOf('COPY scripts ./scripts')).toBeGreaterThan(-1);
    expect(runStage.indexOf('COPY scripts ./scripts')).toBeLessThan(runStage.indexOf('npm ci --omit=dev'));
    expect(runStage).toContain('COPY --from=build /app/dist ./dist');
    expect(runStage).toMatch(/^USER node$/m);
    expect(runStage.trimEnd().split('\n').at(-1)).toBe('CMD ["node", "dist/main.js"]');
  });

  describe('HEALTHCHECK', () => {
    let status = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    let port = 0;
    beforeAll(async () => {
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    const check = () =>
      run(process.execPath, ['-e', healthcheckScript()], {
        env: { PORT: String(port) },
        timeout: 10_000,
      }).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );

    it('passes on 200 and fails on 503 from /healthz, and when nothing listens', async () => {
      status = 200;
      expect(await check()).toBe(0);
      status = 503;
      expect(await check()).toBe(1);
      const closed = port;
      port = 1; // nothing listens on port 1
      expect(await check()).toBe(1);
      port = closed;
    });
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync('compose.yaml', 'utf8'));
  const db = compose.services.db;
  const carebot = compose.services.carebot;

  it('runs PostgreSQL 16 with a healthcheck and its data in a volume', () => {
    expect(db.image).toMatch(/^postgres:16(\b|$)/);
    expect(db.healthcheck.test.join(' ')).toContain('pg_isready');
    const [volume] = (db.volumes[0] as string).split(':');
    expect(Object.keys(compose.volumes)).toContain(volume);
  });

  it('starts carebot from this Dockerfile once the database is healthy, on that database', () => {
    expect(carebot.build).toBe('.');
    expect(carebot.env_file).toBe('.env');
    expect(carebot.ports).toContain('3000:3000');
    expect(carebot.environment.PORT).toBe('3000');
    expect(carebot.depends_on.db.condition).toBe('service_healthy');
    const url = new URL(carebot.environment.DATABASE_URL.replace(/\$\{POSTGRES_PASSWORD:-carebot\}/, 'pw'));
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('db');
    expect(url.pathname).toBe(`/${db.environment.POSTGRES_DB}`);
    expect(url.username).toBe(db.environment.POSTGRES_USER);
  });
});
