/**
 * Who receives what over the realtime socket, and for how long: a resident's group message
 * reaches the group's residents and the staff who work that area's groups — never finance,
 * workers, station crews, dispatchers or agents of other areas — and a socket stops receiving and
 * is closed with a code the client understands when its session ends (logout, staff disabled,
 * roles or areas changed, expiry found by the periodic re-check).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_CLOSE } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';
import { connectSocket, type SocketClient } from '../../test-support/ws-client';
import { DEMO_BUILDINGS } from '../../demo/seed';

let now = new Date('2026-11-20T02:00:00Z');
const t = testAppForFile({ seedDemo: true, clock: () => now });
const tokens: Record<string, string> = {};
const STAFF = ['admin', 'agent1', 'agent2', 'dispatcher1', 'worker1', 'station1', 'finance1'] as const;

beforeAll(async () => {
  for (const u of STAFF) tokens[u] = await t.loginStaff(u);
});

const resident = (building: number) => t.residentOfBuilding(building);

type Client = SocketClient;
const connect = (token: string): Promise<Client> => connectSocket(t.url, token);

const settle = () => new Promise((r) => setTimeout(r, 150));
const post = (token: string, groupId: number, text: string) => t.call('POST', `/api/v1/groups/${groupId}/messages`, { token, body: { text } });
/** Every frame a client got about a group message (the message itself or its inbox entry). */
const about = (c: Client, messageId: number) => c.frames.filter((f) => f.message?.id === messageId || f.messageId === messageId);

describe('realtime scope: who receives a resident’s group message', () => {
  it('the group’s residents and the area’s agents/butlers and admins; no other role, area or building', async () => {
    expect(DEMO_BUILDINGS[0].area).toBe(0); // agent1's area; agent2 serves area 1
    const a = await resident(0);
    const b = await resident(0);
    const otherBuilding = await resident(1);
    const clients = Object.fromEntries(await Promise.all(STAFF.map(async (u) => [u, await connect(tokens[u])] as const)));
    const [ca, cb, co] = await Promise.all([connect(a.token), connect(b.token), connect(otherBuilding.token)]);
    try {
      const sent = await post(a.token, a.groupId, '我的身份证号是220102199001011234，请帮我查欠费');
      expect(sent.status).toBe(201);
      await Promise.all([
        ca.next((f) => f.message?.id === sent.body.id),
        cb.next((f) => f.message?.id === sent.body.id),
        clients.agent1.next((f) => f.type === 'message' && f.message?.id === sent.body.id),
        clients.admin.next((f) => f.type === 'message' && f.message?.id === sent.body.id),
      ]);
      // staff who work the group see who wrote it
      expect(clients.agent1.frames.find((f) => f.type === 'message' && f.message?.id === sent.body.id).message.sender.residentId).toBeGreaterThan(0);
      await settle();
      for (const u of ['agent2', 'dispatcher1', 'worker1', 'station1', 'finance1'] as const) {
        expect({ who: u, frames: about(clients[u], sent.body.id) }).toEqual({ who: u, frames: [] });
        expect(JSON.stringify(clients[u].frames)).not.toContain('220102199001011234');
      }
      expect(about(co, sent.body.id)).toEqual([]);
      // roles without the groups subscribe to nothing at all
      for (const u of ['dispatcher1', 'worker1', 'station1', 'finance1'] as const) expect(clients[u].frames[0]).toMatchObject({ type: 'ready', topics: [] });
    } finally {
      for (const c of [ca, cb, co, ...Object.values(clients)]) c.close();
    }
  });

  it('GET /staff/groups shows the last message only to roles that read the chat', async () => {
    const a = await resident(0);
    const sent = await post(a.token, a.groupId, '楼道暖气漏水，电话13812345678');
    expect(sent.status).toBe(201);
    const agent = await t.call('GET', '/api/v1/staff/groups', { token: tokens.agent1 });
    expect(agent.body.items.find((g: any) => g.id === a.groupId).lastMessage).toMatchObject({ id: sent.body.id });
    for (const u of ['dispatcher1', 'worker1', 'station1', 'finance1'] as const) {
      const res = await t.call('GET', '/api/v1/staff/groups', { token: tokens[u] });
      expect(res.status).toBe(200);
      const g = res.body.items.find((x: any) => x.id === a.groupId);
      expect({ who: u, lastMessage: g?.lastMessage ?? null }).toEqual({ who: u, lastMessage: null });
      expect(JSON.stringify(res.body)).not.toContain('13812345678');
      expect(JSON.stringify(res.body)).not.toContain('楼道暖气漏水');
    }
  });
});

describe('a socket lives no longer than its session', () => {
  it('logout closes the socket with 4401 and nothing more arrives', async () => {
    const a = await resident(0);
    const b = await resident(0);
    const cb = await connect(b.token);
    const out = await t.call('POST', '/api/v1/auth/logout', { token: b.token });
    expect(out.status).toBe(204);
    expect(await cb.closed).toMatchObject({ code: WS_CLOSE.SESSION_ENDED });
    // the reason also as a last frame (Taro's H5 socket doesn't hand the close code to the page)
    expect(cb.frames.at(-1)).toEqual({ type: 'closing', code: WS_CLOSE.SESSION_ENDED });
    const n = cb.frames.length;
    const sent = await post(a.token, a.groupId, '还有人在吗');
    expect(sent.status).toBe(201);
    await settle();
    expect(cb.frames.length).toBe(n);
  });

  it('a staff logout closes only that session’s socket', async () => {
    const other = await t.loginStaff('agent1');
    const [c1, c2] = await Promise.all([connect(other), connect(tokens.agent1)]);
    await t.call('POST', '/api/v1/auth/logout', { token: other });
    expect(await c1.closed).toMatchObject({ code: WS_CLOSE.SESSION_ENDED });
    const a = await resident(0);
    const sent = await post(a.token, a.groupId, '你好');
    await c2.next((f) => f.message?.id === sent.body.id);
    c2.close();
  });

  it('disabling a staff member closes their socket (4401); changing their roles or areas closes it (4403)', async () => {
    const mk = async (username: string) => {
      const res = await t.call('POST', '/api/v1/admin/staff', {
        token: tokens.admin,
        body: {
          username,
          name: '临时客服',
          password: 'secret-2026',
          roles: ['agent'],
          areaIds: (await t.call('GET', '/api/v1/me', { token: tokens.agent1 })).body.areaIds,
        },
      });
      expect(res.status).toBe(201);
      return { id: res.body.id as number, token: await t.loginStaff(username, 'secret-2026') };
    };
    const a = await resident(0);
    const gone = await mk('tmp-agent-a');
    const moved = await mk('tmp-agent-b');
    const [cg, cm] = await Promise.all([connect(gone.token), connect(moved.token)]);
    const first = await post(a.token, a.groupId, '第一条');
    await Promise.all([cg.next((f) => f.message?.id === first.body.id), cm.next((f) => f.message?.id === first.body.id)]);

    expect((await t.call('POST', `/api/v1/admin/staff/${gone.id}/disable`, { token: tokens.admin })).status).toBe(200);
    expect(await cg.closed).toMatchObject({ code: WS_CLOSE.SESSION_ENDED });
    expect((await t.call('PUT', `/api/v1/admin/staff/${moved.id}`, { token: tokens.admin, body: { roles: ['worker'] } })).status).toBe(200);
    expect(await cm.closed).toMatchObject({ code: WS_CLOSE.NOT_ALLOWED });

    const second = await post(a.token, a.groupId, '第二条');
    expect(second.status).toBe(201);
    await settle();
    expect(about(cg, second.body.id)).toEqual([]);
    expect(about(cm, second.body.id)).toEqual([]);
    // reconnecting as a worker now subscribes to nothing
    const again = await connect(moved.token);
    expect(again.frames[0]).toMatchObject({ type: 'ready', topics: [] });
    again.close();
  });

  it('an expired session’s socket closes at the periodic re-check', async () => {
    const a = await resident(0);
    const ca = await connect(a.token);
    const saved = now;
    try {
      now = new Date(now.getTime() + 8 * 24 * 3_600_000); // past SESSION_TTL_HOURS (7 days)
      await t.services.realtime.recheck();
      expect(await ca.closed).toMatchObject({ code: WS_CLOSE.SESSION_ENDED });
    } finally {
      now = saved;
    }
  });

  it('refuses a client frame larger than a ping', async () => {
    const a = await resident(0);
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/ws?token=${a.token}`);
    await new Promise((r) => ws.on('open', r));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.send('x'.repeat(64 * 1024));
    expect(await closed).toBe(1009); // message too big
  });
});
