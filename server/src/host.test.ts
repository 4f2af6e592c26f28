/**
 * The host's life cycle as a client sees it: during start-up the port refuses connections (it is
 * not accepted and left unanswered), and from the first accepted connection on every request is
 * answered.
 */
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { startHost, type Host } from './host';
import { createLogger } from './platform/logger';
import { createTestDatabase, type TestDatabase } from './test-support/db';

let db: TestDatabase | undefined;
let host: Host | undefined;
afterAll(async () => {
  await host?.close();
  await db?.drop();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

it('listens only when ready: during start-up connections are refused, never accepted and left hanging', async () => {
  db = await createTestDatabase();
  const port = await freePort();
  let ready = false;
  const starting = startHost({
    port,
    sandbox: true,
    seedDemo: true, // a start-up that takes a while (migrations, 216 households)
    outboxWorker: false,
    databaseUrl: db.url,
    sqlitePath: db.url ? undefined : ':memory:',
    logger: createLogger('silent'),
  }).then((h) => {
    ready = true;
    return h;
  });
  starting.catch(() => undefined);

  const outcomes = { refused: 0, answered: 0 };
  const stopAt = Date.now() + 90_000;
  while (!ready && Date.now() < stopAt) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) });
      expect(res.status).toBe(200);
      outcomes.answered++;
    } catch (err: any) {
      // before it listens: refused at once; a timeout would mean "accepted, never answered"
      expect(err?.cause?.code ?? err?.name).toBe('ECONNREFUSED');
      outcomes.refused++;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  host = await starting;
  expect(outcomes.refused).toBeGreaterThan(0);
  const res = await fetch(`${host.url}/api/v1/accounts`);
  expect(res.status).toBe(401);
  expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
}, 120_000);
