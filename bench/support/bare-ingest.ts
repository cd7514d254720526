/**
 * The ingest benchmark's floor for HTTP: a bare Node HTTP server that, for each POST, reads the body,
 * takes the complaint's id from it and runs carebot's opening statement (the prepared-statement
 * loop's statement and driver settings: postgres.js, 10 connections, drizzle's serializers), then
 * answers 202. No signature, no validation, no assessment, no log line: what any HTTP front of this
 * statement costs on the machine. Started like carebot (test/reliability/support/process.ts).
 */
import { createServer } from 'node:http';
import { openingQuery, statementClient } from './ingest-work.js';

const sql = statementClient(process.env.DATABASE_URL ?? '');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
    const q = openingQuery(id);
    sql.unsafe(q.text, q.params as never[], { prepare: true }).then(
      (rows) => {
        const body = JSON.stringify({ caseId: Number(rows[0]?.case_id), duplicate: false });
        res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err.message);
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', port, pid: process.pid });
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') server.close(() => void sql.end({ timeout: 5 }).then(() => process.exit(0)));
});
