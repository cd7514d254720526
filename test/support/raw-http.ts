import { connect, type Socket } from 'node:net';

/**
 * A raw TCP client for what fetch cannot do: send a request's head and then hold the body back,
 * trickle it, or never finish it, and watch what the server answers and when it hangs up.
 */
export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with how long (ms since connecting) the server took to close the connection. */
  closed: Promise<number>;
  write(data: string | Buffer): boolean;
  destroy(): void;
}

export async function rawConnect(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const started = performance.now();
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  // The server may reset the connection instead of ending it: both count as closing.
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - started)),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => text,
    closed,
    write: (data) => (socket.destroyed ? false : socket.write(data)),
    destroy: () => socket.destroy(),
  };
}

/** Writes one byte every `everyMs` until the socket closes or `max` bytes went out. */
export function trickle(conn: RawConnection, everyMs: number, max = 1_000_000): () => void {
  let sent = 0;
  const timer = setInterval(() => {
    if (conn.socket.destroyed || sent >= max) {
      clearInterval(timer);
      return;
    }
    conn.write('x');
    sent += 1;
  }, everyMs);
  return () => clearInterval(timer);
}

/** Resolves with `promise`'s value, or with `fallback` once `ms` have passed. */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
