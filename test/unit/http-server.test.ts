import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, sendJson } from '../../src/http/body.js';
import { createHttpServer, listen, SERVER_LIMITS, type ServerLimits } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { type RawConnection, rawConnect, trickle, within } from '../support/raw-http.js';

const logger = createLogger('silent');

describe('HTTP server limits', () => {
  const servers: Server[] = [];
  const connections: RawConnection[] = [];
  afterEach(async () => {
    for (const c of connections.splice(0)) c.destroy();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  /** A server whose one route reads the whole body, as the webhooks do. */
  const start = async (limits?: ServerLimits) => {
    const server = createHttpServer(
      {
        'POST /echo': async (req, res) =>
          sendJson(res, 200, { bytes: (await readBody(req, 1 << 20)).length }),
      },
      logger,
      limits,
    );
    servers.push(server);
    return `http://127.0.0.1:${await listen(server, 0)}`;
  };
  const open = async (url: string) => {
    const conn = await rawConnect(url);
    connections.push(conn);
    return conn;
  };

  it('has production timeouts and a connection cap by default', async () => {
    await start();
    const [server] = servers;
    expect(server?.headersTimeout).toBe(10_000);
    expect(server?.requestTimeout).toBe(20_000);
    expect(server?.maxConnections).toBe(1000);
    expect(SERVER_LIMITS).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 20_000 });
  });

  it('cuts off a body sent a byte at a time once the request timeout is over', async () => {
    const url = await start({ headersTimeoutMs: 300, requestTimeoutMs: 800, checkIntervalMs: 100 });
    const conn = await open(url);
    conn.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n');
    const stop = trickle(conn, 100);
    const closedAfter = await within(conn.closed, 4000, 'still open');
    stop();
    expect(closedAfter).not.toBe('still open');
    expect(closedAfter).toBeGreaterThanOrEqual(700);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts off headers sent a byte at a time once the headers timeout is over', async () => {
    const url = await start({ headersTimeoutMs: 300, requestTimeoutMs: 800, checkIntervalMs: 100 });
    const conn = await open(url);
    conn.write('POST /echo HTTP/1.1\r\nx-slow: ');
    const stop = trickle(conn, 100);
    const closedAfter = await within(conn.closed, 4000, 'still open');
    stop();
    expect(closedAfter).not.toBe('still open');
  });

  it('closes connections past the cap at once and still serves the ones it holds', async () => {
    const url = await start({ maxConnections: 2 });
    const held = [await open(url), await open(url)];
    const extra = await open(url);
    expect(await within(extra.closed, 2000, 'still open')).not.toBe('still open');
    expect(extra.received()).toBe('');
    const [first] = held;
    first?.write(
      'POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi',
    );
    await first?.closed;
    expect(first?.received()).toMatch(/^HTTP\/1\.1 200[\s\S]*\{"bytes":2\}$/);
  });
});
