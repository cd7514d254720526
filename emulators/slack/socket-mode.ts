import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { FAKE_APP_ID } from './web-api.js';

export interface FakeSocketMode {
  /** The wss-style URL `apps.connections.open` hands out (plain ws on loopback). */
  url: string;
  /** Resolves when a client has connected and been greeted with `hello`. */
  connected(): Promise<void>;
  /**
   * Sends an envelope as Slack does (`events_api`, `interactive`, `slash_commands`) and resolves with
   * the client's acknowledgement (`{ envelope_id, payload? }`).
   */
  send(
    type: 'events_api' | 'interactive' | 'slash_commands',
    payload: unknown,
  ): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A local stand-in for Slack's Socket Mode WebSocket endpoint. */
export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let socket: WebSocket | undefined;
  let onConnect: (() => void) | undefined;
  const connected = new Promise<void>((resolve) => {
    onConnect = resolve;
  });
  const pending = new Map<string, (ack: Record<string, unknown>) => void>();
  server.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      const id = msg.envelope_id;
      if (typeof id === 'string') pending.get(id)?.(msg);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake-socket-mode', approximate_connection_time: 18060 },
        connection_info: { app_id: FAKE_APP_ID },
      }),
    );
    onConnect?.();
  });
  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=fake`,
    connected: () => connected,
    send: (type, payload) => {
      if (!socket) return Promise.reject(new Error('no Socket Mode client connected'));
      const envelopeId = randomUUID();
      const ack = new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for ${type} envelope`)), 5000);
        pending.set(envelopeId, (msg) => {
          clearTimeout(timer);
          pending.delete(envelopeId);
          resolve(msg);
        });
      });
      socket.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: 0,
        }),
      );
      return ack;
    },
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
