/**
 * Start-up as a client sees it: until the BFF is composed (migrations, services, demo seed), its
 * port refuses connections; it never accepts one and leaves it unanswered. The BFF runs as a
 * child process (`npm start`'s way), so that its start-up work can't stall the probing client.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { childBffEnv, type ChildBffEnv } from './test-support/child-bff';

let env: ChildBffEnv;
beforeAll(async () => {
  env = await childBffEnv();
}, 60_000);
afterAll(async () => env?.close());

it('listens only when ready: during start-up connections are refused, never accepted and left hanging', async () => {
  let ready = false;
  const starting = env.start().finally(() => (ready = true));
  starting.catch(() => undefined);

  const outcomes = { refused: 0, answered: 0 };
  while (!ready) {
    try {
      const res = await fetch(`${env.url}/healthz`, { signal: AbortSignal.timeout(3_000) });
      expect(res.status).toBe(200);
      outcomes.answered++;
    } catch (err: any) {
      // before it listens: refused at once; a timeout would mean "accepted, never answered"
      expect(err?.cause?.code ?? err?.name).toBe('ECONNREFUSED');
      outcomes.refused++;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await starting;
  expect(outcomes.refused).toBeGreaterThan(0);
  expect((await env.call('GET', '/api/v1/accounts')).status).toBe(401);
  expect((await env.call('GET', '/readyz')).status).toBe(200);
}, 300_000);
