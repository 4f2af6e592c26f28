/**
 * Realtime fan-out through Redis pub/sub: several BFF instances serve one group. Needs a Redis:
 * TEST_REDIS_URL=redis://127.0.0.1:6379 npx vitest run server/src/modules/groups
 */
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_CLOSE } from '@heat-butler/shared';
import { RealtimeHub } from '../../platform/realtime';
import type { AuthPrincipal } from '../../platform/auth';
import { createLogger } from '../../platform/logger';
import { startTestApp, type TestApp } from '../../test-support/app';
import { demoHouseholds } from '../../demo/seed';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.warn('[groups] Redis fan-out tests skipped: TEST_REDIS_URL is not set (e.g. TEST_REDIS_URL=redis://127.0.0.1:6379)');

/** Sessions the fake authenticator treats as ended (shared by every instance, like the database). */
const ended = new Set<number>();

/**
 * A bare BFF "instance": a hub on its own http server; tokens are "r<residentId>x…" (the session
 * id is the resident id) with fixed topics.
 */
async function instance(topicsOf: (p: AuthPrincipal) => string[]) {
  const hub = new RealtimeHub(createLogger('silent'), REDIS_URL);
  hub.setAuthenticator(async (token) => {
    const m = /^r(\d+)x/.exec(token);
    if (m && ended.has(Number(m[1]))) return 'expired';
    return m ? { kind: 'resident', residentId: Number(m[1]), sessionId: Number(m[1]), openid: '' } : null;
  });
  hub.setTopicProvider(async (p) => topicsOf(p));
  await hub.start();
  const server = http.createServer((_req, res) => res.end());
  hub.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/ws`;
  return {
    hub,
    url,
    close: async () => {
      await hub.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function client(url: string, token: string) {
  const ws = new WebSocket(`${url}?token=${token}`);
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', () => frames.some((f) => f.type === 'ready') && resolve());
  });
  const wait = async (pred: (f: any) => boolean, ms = 3000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const hit = frames.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no frame in time');
  };
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  return { ws, frames, wait, closed };
}

const token = (residentId: number) => `r${residentId}x${crypto.randomBytes(16).toString('hex')}`;

describe.skipIf(!REDIS_URL)('realtime fan-out through Redis (several instances)', () => {
  it('a publish on one instance reaches sockets on another; topic changes follow a principal across instances', async () => {
    const topic = `group:${crypto.randomInt(1e9)}`;
    const a = await instance(() => [topic]);
    const b = await instance(() => [topic]);
    try {
      const ca = await client(a.url, token(1));
      const cb = await client(b.url, token(2));
      a.hub.publish(topic, { type: 'message', n: 1 });
      await Promise.all([ca.wait((f) => f.n === 1), cb.wait((f) => f.n === 1)]);
      expect(cb.frames.find((f) => f.n === 1)).toEqual({ type: 'message', n: 1, topic });

      // resident 2 joins another group while connected to instance b; instance a announces it
      const other = `${topic}-2`;
      a.hub.subscribe('r:2', other, true);
      await new Promise((r) => setTimeout(r, 100));
      a.hub.publish(other, { type: 'message', n: 2 });
      await cb.wait((f) => f.n === 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(ca.frames.some((f) => f.n === 2)).toBe(false);
      // and leaves it again
      b.hub.subscribe('r:2', other, false);
      await new Promise((r) => setTimeout(r, 100));
      a.hub.publish(other, { type: 'message', n: 3 });
      a.hub.publish(topic, { type: 'message', n: 4 });
      await cb.wait((f) => f.n === 4);
      expect(cb.frames.some((f) => f.n === 3)).toBe(false);
      ca.ws.close();
      cb.ws.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('ending a session or re-checking a principal on one instance closes the sockets on another', async () => {
    const topic = `group:${crypto.randomInt(1e9)}`;
    const a = await instance(() => [topic]);
    const b = await instance(() => [topic]);
    try {
      const [c7, c8, c9] = await Promise.all([client(b.url, token(7)), client(b.url, token(8)), client(b.url, token(9))]);
      a.hub.endSession(7);
      expect(await c7.closed).toBe(WS_CLOSE.SESSION_ENDED);
      ended.add(8);
      a.hub.recheckPrincipal('r:8');
      expect(await c8.closed).toBe(WS_CLOSE.SESSION_ENDED);
      // the others keep receiving
      a.hub.publish(topic, { type: 'message', n: 5 });
      await c9.wait((f) => f.n === 5);
      expect(c7.frames.some((f) => f.n === 5) || c8.frames.some((f) => f.n === 5)).toBe(false);
      c9.ws.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  describe('the real app with REDIS_URL', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ seedDemo: true, config: { REDIS_URL } });
    });
    afterAll(async () => t?.close());

    it('a resident’s message posted on one instance reaches a member connected to another', async () => {
      const h = demoHouseholds().find((x) => x.building === 0 && x.status === 'active')!;
      const tk = await t.loginResident('redis-' + crypto.randomUUID().slice(0, 8));
      expect((await t.call('POST', '/api/v1/accounts/bind', { token: tk, body: { accountNo: h.accountNo, ownerName: h.ownerName } })).status).toBe(201);
      const groupId = (await t.call('GET', '/api/v1/groups', { token: tk })).body.items[0].id as number;
      // the app's own socket, and a second instance where a neighbour is connected
      const own = await client(`${t.url.replace(/^http/, 'ws')}/api/v1/ws`, tk);
      const second = await instance(() => [`group:${groupId}`]);
      try {
        const neighbour = await client(second.url, token(999_999));
        const sent = await t.call('POST', `/api/v1/groups/${groupId}/messages`, { token: tk, body: { text: '跨实例送达' } });
        expect(sent.status).toBe(201);
        const [f1, f2] = await Promise.all([own.wait((f) => f.message?.id === sent.body.id), neighbour.wait((f) => f.message?.id === sent.body.id)]);
        expect(f2.message).toMatchObject({ text: '跨实例送达', sender: { kind: 'resident', mine: false } });
        expect(f1.topic).toBe(`group:${groupId}`);
        neighbour.ws.close();
      } finally {
        own.ws.close();
        await second.close();
      }
    });
  });
});
