/**
 * 管家群 end to end: the real BFF on loopback, real WebSocket clients, the WeChat simulator for
 * subscription messages, and a real database (MariaDB with TEST_DATABASE_URL).
 */
import crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { IsNull } from 'typeorm';
import { maskName } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';
import { connectSocket } from '../../test-support/ws-client';
import { demoHouseholds, DEMO_BUILDINGS } from '../../demo/seed';
import { OutboxMessage } from '../../platform/entities';
import { openidFor } from '../../sandbox';
import { ButlerGroup, GroupMember, GroupMessage } from './entities';

let now = new Date('2026-11-20T02:00:00Z');
const t = testAppForFile({ seedDemo: true, clock: () => now });
const tick = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
let agent1: string;
let agent2: string;

beforeAll(async () => {
  agent1 = await t.loginStaff('agent1');
  agent2 = await t.loginStaff('agent2');
});

const households = demoHouseholds();
/** Households of a demo building (index into DEMO_BUILDINGS), each handed out once. */
const used = new Set<string>();
function household(building: number, unitNo?: string) {
  const h = households.find((x) => x.building === building && x.status === 'active' && !used.has(x.accountNo) && (!unitNo || x.unitNo === unitNo));
  if (!h) throw new Error('no household left');
  used.add(h.accountNo);
  return h;
}

async function resident(building: number, unitNo?: string) {
  const h = household(building, unitNo);
  const user = 'gr-' + crypto.randomUUID().slice(0, 8);
  const token = await t.loginResident(user);
  const res = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } });
  expect(res.status).toBe(201);
  const groups = await t.call('GET', '/api/v1/groups', { token });
  return { token, user, h, accountId: res.body.accountId as number, groupId: groups.body.items[0]?.id as number };
}

async function groupOf(building: number): Promise<ButlerGroup> {
  const b = (await t.services.accounts.listBuildings())[building];
  return t.ds.getRepository(ButlerGroup).findOneByOrFail({ buildingId: b.id });
}

const post = (token: string, groupId: number, text: string, extra: Record<string, unknown> = {}) =>
  t.call('POST', `/api/v1/groups/${groupId}/messages`, { token, body: { text, ...extra } });
const staffPost = (token: string, groupId: number, body: Record<string, unknown>) =>
  t.call('POST', `/api/v1/staff/groups/${groupId}/messages`, { token, body });

const connect = (token: string) => connectSocket(t.url, token);

describe('groups and membership', () => {
  it('every building has its group; existing buildings get one at start', async () => {
    const groups = await t.ds.getRepository(ButlerGroup).find();
    expect(groups).toHaveLength(DEMO_BUILDINGS.length);
    expect(groups[0].name).toBe('锦绣家园1号楼供热管家群');
    // a building whose group is missing (created before the module) gets it from ensureGroups
    await t.ds.getRepository(ButlerGroup).delete({ id: groups[5].id });
    const r = await t.services.groups.ensureGroups();
    expect(r.created).toBe(1);
    expect(await t.ds.getRepository(ButlerGroup).count()).toBe(DEMO_BUILDINGS.length);
    // a building created now gets its group from the building.created reaction (after commit, by the outbox)
    const area = (await t.services.company.areas())[0];
    const b = await t.services.accounts.createBuilding({ areaId: area.id, name: '9号楼', address: '长春市朝阳区湖西路166号锦绣家园' });
    await t.services.outbox.drain();
    expect(await t.ds.getRepository(ButlerGroup).findOneBy({ buildingId: b.id })).toMatchObject({ areaId: area.id, name: '锦绣家园9号楼供热管家群' });
  });

  it('joins on bind, leaves on unbind, and joins again on rebind', async () => {
    const r = await resident(0);
    const group = await groupOf(0);
    expect(r.groupId).toBe(group.id);
    const list = await t.call('GET', '/api/v1/groups', { token: r.token });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ id: group.id, name: '锦绣家园1号楼供热管家群', unread: 0, mutedUntil: null });

    expect((await t.call('DELETE', `/api/v1/accounts/${r.accountId}/binding`, { token: r.token })).status).toBe(204);
    expect((await t.call('GET', '/api/v1/groups', { token: r.token })).body.items).toEqual([]);
    expect((await t.call('GET', `/api/v1/groups/${group.id}/messages`, { token: r.token })).body.error.code).toBe('GROUP_NOT_FOUND');
    const rows = await t.ds.getRepository(GroupMember).find({ where: { residentId: (await memberRow(r.accountId)).residentId } });
    expect(rows.every((m) => m.leftAt)).toBe(true);

    const again = await t.call('POST', '/api/v1/accounts/bind', { token: r.token, body: { accountNo: r.h.accountNo, ownerName: r.h.ownerName } });
    expect(again.status).toBe(201);
    expect((await t.call('GET', '/api/v1/groups', { token: r.token })).body.items.map((g: any) => g.id)).toEqual([group.id]);
  });

  it('staff see the groups of their areas with the join rate', async () => {
    const mine = await t.call('GET', '/api/v1/staff/groups', { token: agent1 });
    expect(mine.status).toBe(200);
    const g0 = await groupOf(0);
    expect(mine.body.items.every((g: any) => g.areaId === g0.areaId)).toBe(true);
    const first = mine.body.items.find((g: any) => g.id === g0.id);
    const joined = await t.ds
      .getRepository(GroupMember)
      .createQueryBuilder('m')
      .select('COUNT(DISTINCT m.accountId)', 'n')
      .where('m.groupId = :g AND m.leftAt IS NULL', { g: g0.id })
      .getRawOne();
    expect(first).toMatchObject({ households: 36, joined: Number(joined.n) });
    expect(first.joinRate).toBeCloseTo(Number(joined.n) / 36, 3);
    expect(first.staffMembers.map((s: any) => s.name)).toEqual(expect.arrayContaining(['李客服', '周管理']));
    expect(first.staffMembers.map((s: any) => s.name)).not.toContain('赵客服');
    // an agent of the other area cannot open it
    expect((await t.call('GET', `/api/v1/staff/groups/${g0.id}/messages`, { token: agent2 })).status).toBe(404);
  });
});

async function memberRow(accountId: number) {
  return t.ds.getRepository(GroupMember).findOneByOrFail({ accountId });
}

describe('messages', () => {
  it('a resident cannot read or post in another building’s group', async () => {
    const a = await resident(0);
    const other = await groupOf(1);
    expect((await t.call('GET', `/api/v1/groups/${other.id}/messages`, { token: a.token })).body.error.code).toBe('GROUP_NOT_FOUND');
    const res = await post(a.token, other.id, '我想问问隔壁楼的事');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('GROUP_NOT_FOUND');
    expect(await t.ds.getRepository(GroupMessage).count({ where: { groupId: other.id } })).toBe(0);
  });

  it('residents appear masked as "N单元 王**", staff with name and role', async () => {
    const a = await resident(0, '2');
    const res = await post(a.token, a.groupId, '今天家里只有16度');
    expect(res.status).toBe(201);
    expect(res.body.sender).toEqual({ kind: 'resident', label: `2单元 ${maskName(a.h.ownerName)}`, role: null, mine: true });
    expect(res.body.sender.label).toMatch(/^2单元 \S\*+$/);
    expect(JSON.stringify(res.body)).not.toContain(a.h.ownerName);
    const reply = await staffPost(agent1, a.groupId, { text: '您好，马上为您登记', quoteId: res.body.id });
    expect(reply.status).toBe(201);
    expect(reply.body.sender).toEqual({ kind: 'staff', label: '李客服', role: '管家', mine: true });
    expect(reply.body.quote).toMatchObject({ id: res.body.id, label: res.body.sender.label, text: '今天家里只有16度' });
    // another resident of the building sees both, masked, not as theirs, with no resident ids
    const b = await resident(0);
    const page = await t.call('GET', `/api/v1/groups/${a.groupId}/messages?limit=2`, { token: b.token });
    expect(page.body.items.map((m: any) => m.id)).toEqual([reply.body.id, res.body.id]);
    expect(page.body.items[1].sender).toEqual({ kind: 'resident', label: res.body.sender.label, role: null, mine: false });
    expect(page.body.items[1]).not.toHaveProperty('answeredAt');
  });

  it('pages newest first, polls with after=, counts unread', async () => {
    const a = await resident(1);
    const b = await resident(1);
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await post(a.token, a.groupId, `第${i}条`)).body.id);
    const p1 = await t.call('GET', `/api/v1/groups/${a.groupId}/messages?limit=2`, { token: b.token });
    expect(p1.body.items.map((m: any) => m.text)).toEqual(['第5条', '第4条']);
    expect(p1.body).toMatchObject({ hasMore: true, unread: 5 });
    const p2 = await t.call('GET', `/api/v1/groups/${a.groupId}/messages?limit=2&before=${p1.body.items[1].id}`, { token: b.token });
    expect(p2.body.items.map((m: any) => m.text)).toEqual(['第3条', '第2条']);
    const poll = await t.call('GET', `/api/v1/groups/${a.groupId}/messages?after=${ids[2]}`, { token: b.token });
    expect(poll.body.items.map((m: any) => m.text)).toEqual(['第4条', '第5条']);
    expect((await t.call('GET', '/api/v1/groups', { token: b.token })).body.items[0].unread).toBe(5);
    expect((await t.call('GET', '/api/v1/groups', { token: a.token })).body.items[0].unread).toBe(0);
    const read = await t.call('POST', `/api/v1/groups/${a.groupId}/read`, { token: b.token, body: { upTo: ids[3] } });
    expect(read.body).toEqual({ unread: 1 });
    // validation: empty message
    const empty = await post(a.token, a.groupId, '   ');
    expect(empty.status).toBe(400);
  });

  it('delivers in realtime to two connected residents and to the area’s staff, not to other buildings', async () => {
    const a = await resident(3);
    const b = await resident(3);
    const outsider = await resident(4);
    const [ca, cb, co, cs, cOtherStaff] = await Promise.all([connect(a.token), connect(b.token), connect(outsider.token), connect(agent2), connect(agent1)]);
    try {
      const sent = await post(a.token, a.groupId, '暖气片不热了');
      const [fa, fb, fs] = await Promise.all([
        ca.next((f) => f.type === 'message' && f.message.id === sent.body.id),
        cb.next((f) => f.type === 'message' && f.message.id === sent.body.id),
        cs.next((f) => f.type === 'inbox' && f.messageId === sent.body.id && f.change === 'new'),
      ]);
      expect(fa.topic).toBe(`group:${a.groupId}`);
      expect(fb.message).toMatchObject({ text: '暖气片不热了', sender: { kind: 'resident', label: sent.body.sender.label } });
      expect(fb.message.sender).not.toHaveProperty('residentId');
      expect(fs.topic).toMatch(/^area:/);
      // a resident who binds while connected starts receiving the group
      const late = await resident(4);
      const cl = await connect(late.token);
      await t.call('POST', '/api/v1/accounts/bind', {
        token: late.token,
        body: (() => {
          const h = household(3);
          return { accountNo: h.accountNo, ownerName: h.ownerName };
        })(),
      });
      const reply = await staffPost(agent2, a.groupId, { text: '师傅下午上门', quoteId: sent.body.id });
      expect(reply.status).toBe(201);
      await Promise.all([
        ca.next((f) => f.message?.id === reply.body.id),
        cb.next((f) => f.message?.id === reply.body.id),
        cl.next((f) => f.message?.id === reply.body.id),
      ]);
      cl.close();
      await new Promise((r) => setTimeout(r, 100));
      expect(co.frames.filter((f) => f.type === 'message')).toEqual([]);
      expect(cOtherStaff.frames.filter((f) => f.groupId === a.groupId)).toEqual([]);
      // every frame text, as the mini-program's onSocketMessage reads it (a string, not an ArrayBuffer)
      for (const c of [ca, cb, cs]) expect(c.binary).toBe(0);
    } finally {
      for (const c of [ca, cb, co, cs, cOtherStaff]) c.close();
    }
  });

  it('refuses a WebSocket without a valid token', async () => {
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/ws?token=${'x'.repeat(43)}`);
    const status = await new Promise<number>((resolve) =>
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).on('error', () => resolve(-1)),
    );
    expect(status).toBe(401);
  });
});

describe('agents’ inbox', () => {
  let agent3: string;
  beforeAll(async () => {
    const g0 = await groupOf(0);
    await t.services.identity.createStaff({ username: 'agent3', name: '钱客服', password: 'demo-2026', roles: ['agent'], areaIds: [g0.areaId] });
    agent3 = await t.loginStaff('agent3');
  });

  it('pending lists unanswered questions oldest first with their waiting time', async () => {
    const a = await resident(2);
    const q1 = await post(a.token, a.groupId, '什么时候注水？');
    tick(90);
    const inbox = await t.call('GET', `/api/v1/staff/inbox?view=pending&groupId=${a.groupId}`, { token: agent1 });
    expect(inbox.status).toBe(200);
    const item = inbox.body.items.find((i: any) => i.message.id === q1.body.id);
    expect(item).toMatchObject({ waitingSeconds: 90, claimedBy: null, groupName: '南湖新村5号楼供热管家群' });
    expect(item.message.sender.residentId).toEqual(expect.any(Number));
    const ids = inbox.body.items.map((i: any) => i.message.id);
    expect(ids).toEqual([...ids].sort((x: number, y: number) => x - y));
    // the other area's agent sees none of it
    const other = await t.call('GET', `/api/v1/staff/inbox?view=pending`, { token: agent2 });
    expect(other.body.items.some((i: any) => i.message.groupId === a.groupId)).toBe(false);
  });

  it('claim race: one agent wins, the other is told who owns it and cannot answer', async () => {
    const a = await resident(0);
    const q = await post(a.token, a.groupId, '发票怎么开？');
    const [r1, r3] = await Promise.all([
      t.call('POST', `/api/v1/staff/inbox/${q.body.id}/claim`, { token: agent1 }),
      t.call('POST', `/api/v1/staff/inbox/${q.body.id}/claim`, { token: agent3 }),
    ]);
    const statuses = [r1.status, r3.status].sort();
    expect(statuses).toEqual([200, 409]);
    const [winner, loser, winnerName] = r1.status === 200 ? [agent1, agent3, '李客服'] : [agent3, agent1, '钱客服'];
    const lost = r1.status === 200 ? r3 : r1;
    expect(lost.body.error).toMatchObject({ code: 'CLAIMED_BY_OTHER', details: { staffName: winnerName } });
    const won = r1.status === 200 ? r1 : r3;
    expect(won.body.claimedBy).toMatchObject({ name: winnerName });
    const blocked = await staffPost(loser, a.groupId, { text: '我来回答', quoteId: q.body.id });
    expect(blocked.body.error.code).toBe('CLAIMED_BY_OTHER');
    const mine = await t.call('GET', '/api/v1/staff/inbox?view=mine', { token: winner });
    expect(mine.body.items.map((i: any) => i.message.id)).toContain(q.body.id);
    const ok = await staffPost(winner, a.groupId, { text: '缴费后在缴费记录里申请', quoteId: q.body.id });
    expect(ok.status).toBe(201);
    const pending = await t.call('GET', `/api/v1/staff/inbox?view=pending&groupId=${a.groupId}`, { token: winner });
    expect(pending.body.items.map((i: any) => i.message.id)).not.toContain(q.body.id);
    // a stale claim can be taken over
    const q2 = await post(a.token, a.groupId, '还有个问题');
    expect((await t.call('POST', `/api/v1/staff/inbox/${q2.body.id}/claim`, { token: winner })).status).toBe(200);
    expect((await t.call('POST', `/api/v1/staff/inbox/${q2.body.id}/claim`, { token: loser })).status).toBe(409);
    tick(16 * 60);
    expect((await t.call('POST', `/api/v1/staff/inbox/${q2.body.id}/claim`, { token: loser })).status).toBe(200);
  });

  it('canned replies: searchable by category and text, placeholders filled for the resident', async () => {
    const a = await resident(0, '1');
    const q = await post(a.token, a.groupId, '家里温度低');
    const list = await t.call('GET', `/api/v1/staff/canned-replies?category=room_temp`, { token: agent1 });
    expect(list.body.items.length).toBeGreaterThan(0);
    const search = await t.call('GET', `/api/v1/staff/canned-replies?q=${encodeURIComponent('发票')}`, { token: agent1 });
    expect(search.body.items.map((c: any) => c.category)).toContain('invoice');
    const created = await t.call('POST', '/api/v1/staff/canned-replies', {
      token: await t.loginStaff('admin'),
      body: { category: 'other', title: '测试话术', body: '{住户}您好，{小区}{楼栋}{单元}已登记，{公司}热线{热线}，{客服}为您服务。{未知}' },
    });
    expect(created.status).toBe(201);
    expect((await t.call('POST', '/api/v1/staff/canned-replies', { token: agent1, body: { category: 'other', title: 'x', body: 'y' } })).status).toBe(403);
    const rendered = await t.call('POST', `/api/v1/staff/canned-replies/${created.body.id}/render`, { token: agent1, body: { messageId: q.body.id } });
    expect(rendered.body).toEqual({
      text: `${maskName(a.h.ownerName)}您好，锦绣家园1号楼1单元已登记，和煦热力有限公司热线0431-96009，李客服为您服务。{未知}`,
      missing: ['未知'],
    });
    // inserted in one tap: the rendered text is posted as the reply
    const reply = await staffPost(agent1, a.groupId, { text: rendered.body.text, quoteId: q.body.id });
    expect(reply.status).toBe(201);
  });

  it('private staff notes on a resident are for staff of the area only', async () => {
    const a = await resident(0);
    const q = await post(a.token, a.groupId, '你好');
    const inbox = await t.call('GET', `/api/v1/staff/inbox?view=all&groupId=${a.groupId}`, { token: agent1 });
    const residentId = inbox.body.items.find((i: any) => i.message.id === q.body.id).message.sender.residentId;
    const note = await t.call('POST', `/api/v1/staff/residents/${residentId}/notes`, { token: agent1, body: { body: '老人独居，耐心解释' } });
    expect(note.status).toBe(201);
    expect((await t.call('GET', `/api/v1/staff/residents/${residentId}/notes`, { token: agent1 })).body.items[0]).toMatchObject({
      body: '老人独居，耐心解释',
      staffName: '李客服',
    });
    expect((await t.call('GET', `/api/v1/staff/residents/${residentId}/notes`, { token: agent2 })).status).toBe(404);
    expect((await t.call('GET', `/api/v1/staff/residents/${residentId}/notes`, { token: a.token })).status).toBe(403);
  });
});

describe('moderation', () => {
  it('a hidden message disappears for residents but stays for audit', async () => {
    const a = await resident(1);
    const b = await resident(1);
    const cb = await connect(b.token);
    try {
      const bad = await post(a.token, a.groupId, '广告：低价代缴热费');
      const report = await t.call('POST', `/api/v1/groups/${a.groupId}/messages/${bad.body.id}/report`, { token: b.token, body: { reason: '广告' } });
      expect(report.status).toBe(201);
      expect(
        (await t.call('POST', `/api/v1/groups/${a.groupId}/messages/${bad.body.id}/report`, { token: b.token, body: { reason: '广告' } })).body.error.code,
      ).toBe('ALREADY_REPORTED');
      const reports = await t.call('GET', '/api/v1/staff/reports', { token: agent1 });
      expect(reports.body.items[0]).toMatchObject({ reason: '广告', message: { id: bad.body.id, reports: 1 } });
      const hidden = await t.call('POST', `/api/v1/staff/messages/${bad.body.id}/hide`, { token: agent1, body: { reason: '广告' } });
      expect(hidden.body).toMatchObject({ hidden: true, hideReason: '广告', text: '广告：低价代缴热费' });
      await cb.next((f) => f.type === 'hidden' && f.messageId === bad.body.id);
      for (const token of [a.token, b.token]) {
        const page = await t.call('GET', `/api/v1/groups/${a.groupId}/messages`, { token });
        expect(page.body.items.map((m: any) => m.id)).not.toContain(bad.body.id);
      }
      const audit = await t.call('GET', `/api/v1/staff/groups/${a.groupId}/messages`, { token: agent1 });
      expect(audit.body.items.find((m: any) => m.id === bad.body.id)).toMatchObject({ hidden: true, hideReason: '广告' });
      const row = await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: bad.body.id });
      expect(row.hiddenAt).not.toBeNull();
      expect(row.text).toBe('广告：低价代缴热费');
      expect((await t.call('POST', `/api/v1/groups/${a.groupId}/messages/${bad.body.id}/report`, { token: b.token, body: { reason: '再举报' } })).status).toBe(
        404,
      );
    } finally {
      cb.close();
    }
  });

  it('a muted member cannot post until the mute ends', async () => {
    const a = await resident(1);
    const q = await post(a.token, a.groupId, '刷屏');
    const residentId = (await t.call('GET', `/api/v1/staff/groups/${a.groupId}/messages`, { token: agent1 })).body.items.find((m: any) => m.id === q.body.id)
      .sender.residentId;
    const mute = await t.call('POST', `/api/v1/staff/groups/${a.groupId}/mute`, { token: agent1, body: { residentId, minutes: 30, reason: '刷屏' } });
    expect(mute.status).toBe(200);
    const blocked = await post(a.token, a.groupId, '再刷');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error).toMatchObject({ code: 'MEMBER_MUTED', details: { mutedUntil: mute.body.mutedUntil } });
    expect((await t.call('GET', '/api/v1/groups', { token: a.token })).body.items[0].mutedUntil).toBe(mute.body.mutedUntil);
    tick(31 * 60);
    expect((await post(a.token, a.groupId, '好的')).status).toBe(201);
  });
});

describe('announcements', () => {
  it('pinned in the group, pushed only to residents who allowed it; refusals recorded, not retried', async () => {
    const allowed = await resident(2);
    const refused = await resident(2);
    const elsewhere = await resident(0);
    await t.allowMessages(allowed.token, allowed.user, ['announcement']);
    const b2 = (await t.services.accounts.listBuildings())[2];
    const restore = new Date(now.getTime() + 10 * 3600_000);
    const missing = await t.call('POST', '/api/v1/staff/announcements', {
      token: agent1,
      body: { scope: 'building', targetId: b2.id, type: 'outage', title: '紧急停热', body: '主管线爆管抢修' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields.map((f: any) => f.field)).toContain('expectedRestoreAt');
    expect(
      (
        await t.call('POST', '/api/v1/staff/announcements', {
          token: agent2,
          body: { scope: 'building', targetId: b2.id, type: 'notice', title: 'x', body: 'y' },
        })
      ).status,
    ).toBe(404);
    expect((await t.call('POST', '/api/v1/staff/announcements', { token: agent1, body: { scope: 'all', type: 'notice', title: 'x', body: 'y' } })).status).toBe(
      403,
    );

    const res = await t.call('POST', '/api/v1/staff/announcements', {
      token: agent1,
      body: { scope: 'building', targetId: b2.id, type: 'outage', title: '紧急停热', body: '主管线爆管抢修', expectedRestoreAt: restore.toISOString() },
    });
    expect(res.status).toBe(201);
    const recipients = res.body.delivery.recipients;
    expect(recipients).toBeGreaterThanOrEqual(2);

    const page = await t.call('GET', `/api/v1/groups/${allowed.groupId}/messages?limit=1`, { token: refused.token });
    expect(page.body.items[0]).toMatchObject({
      kind: 'announcement',
      announcement: { type: 'outage', typeLabel: '停热抢修', expectedRestoreAt: restore.toISOString() },
    });
    expect(page.body.items[0].text).toContain('预计恢复时间：2026-');
    const summary = (await t.call('GET', '/api/v1/groups', { token: refused.token })).body.items[0];
    expect(summary.pinned[0].announcement.title).toBe('紧急停热');
    expect((await t.call('GET', '/api/v1/groups', { token: elsewhere.token })).body.items[0].pinned).toEqual([]);

    await t.services.outbox.drain();
    const inbox = (user: string) =>
      t
        .call('GET', `/sandbox/device/messages?user=${user}`)
        .then((r) => r.body.items.filter((m: any) => m.templateId === t.services.notifications.templateId('announcement')));
    const got = await inbox(allowed.user);
    expect(got).toHaveLength(1);
    expect(got[0].data).toMatchObject({ thing1: { value: '紧急停热' }, thing2: { value: '停热抢修' } });
    expect(got[0].data.thing4.value).toMatch(/^预计\d\d-\d\d \d\d:\d\d恢复$/);
    expect(await inbox(refused.user)).toEqual([]);
    expect(await inbox(elsewhere.user)).toEqual([]);
    const sentTo = t.sandbox!.state.subscribeMessages.filter((m) => m.templateId === t.services.notifications.templateId('announcement'));
    expect(sentTo.filter((m) => m.errcode === 0).map((m) => m.openid)).toEqual([openidFor(t.config.WECHAT_APPID, allowed.user)]);

    // the refusal is recorded on the outbox row and not retried
    const refusedRow = await t.ds.getRepository(OutboxMessage).findOneByOrFail({ dedupeKey: `ann:${res.body.id}:r:${await residentIdOf(refused.accountId)}` });
    expect(refusedRow).toMatchObject({ status: 'dead', attempts: 1 });
    expect(refusedRow.lastError).toContain('no subscription grant');
    tick(3600);
    await t.services.outbox.drain();
    expect((await t.ds.getRepository(OutboxMessage).findOneByOrFail({ id: refusedRow.id })).attempts).toBe(1);
    const list = await t.call('GET', '/api/v1/staff/announcements', { token: agent1 });
    expect(list.body.items[0].delivery).toEqual({ recipients, sent: 1, pending: 0, refused: recipients - 1 });
  });
});

async function residentIdOf(accountId: number) {
  return (await t.ds.getRepository(GroupMember).findOneByOrFail({ accountId, leftAt: IsNull() })).residentId;
}

describe('metrics', () => {
  it('first-response time per agent and per area: median and p90', async () => {
    tick(86_400);
    const from = now.toISOString();
    const g = await groupOf(5);
    await t.services.identity.createStaff({ username: 'agent5', name: '吴客服', password: 'demo-2026', roles: ['agent'], areaIds: [g.areaId] });
    const agent5 = await t.loginStaff('agent5');
    const a = await resident(5);
    const waits = [60, 120, 600];
    for (const w of waits) {
      const q = await post(a.token, a.groupId, `问题${w}`);
      tick(w);
      expect((await staffPost(agent5, a.groupId, { text: '已回复', quoteId: q.body.id })).status).toBe(201);
    }
    // two questions in a row answered by one reply: both count from their own time
    const q1 = await post(a.token, a.groupId, '第一问');
    tick(30);
    const q2 = await post(a.token, a.groupId, '第二问');
    tick(30);
    await staffPost(agent2, a.groupId, { text: '一并回复', quoteId: q2.body.id });
    expect(q1.status).toBe(201);
    const open = await post(a.token, a.groupId, '还没人回');
    expect(open.status).toBe(201);

    const m = await t.call('GET', `/api/v1/staff/groups/metrics?from=${encodeURIComponent(from)}`, { token: agent2 });
    expect(m.status).toBe(200);
    expect(m.body.perAgent.find((x: any) => x.name === '吴客服')).toMatchObject({ answered: 3, medianSeconds: 120, p90Seconds: 600 });
    expect(m.body.perAgent.find((x: any) => x.name === '赵客服')).toMatchObject({ answered: 2, medianSeconds: 45, p90Seconds: 60 });
    // area: 30, 60, 60, 120, 600 -> median 60, p90 600
    expect(m.body.perArea).toEqual([{ areaId: g.areaId, answered: 5, medianSeconds: 60, p90Seconds: 600 }]);
    expect(m.body.unanswered).toBeGreaterThanOrEqual(1);
    expect(m.body.joinRate.find((x: any) => x.groupId === g.id)).toMatchObject({ households: 36, joined: 1 });
  });
});

const upload = async (token: string) => {
  const res = await t.upload(token, 'chat_photo');
  expect(res.status).toBe(201);
  return res.body as { id: string; url: string };
};
/** a signed photo link without its signature: which photo it shows */
const photoOf = (url: string | null) => url?.split('?')[0];

describe('photos in messages', () => {
  it('a resident posts a photo (their own upload) and the group sees it live; staff can post photos too', async () => {
    const a = await resident(2);
    const b = await resident(2);
    const cb = await connect(b.token);
    try {
      const up = await upload(a.token);
      const sent = await post(a.token, a.groupId, '', { text: undefined, photo: up.id });
      expect(sent.status).toBe(201);
      expect(sent.body).toMatchObject({ kind: 'image', text: null });
      expect(photoOf(sent.body.imageUrl)).toBe(`/api/v1/uploads/${up.id}`);
      // WeChat passes the photo; photo.checked publishes it to the group (after commit, from the outbox)
      await t.sandbox!.state.security.settleMediaChecks();
      await t.services.outbox.drain();
      const live = await cb.next((f) => f.type === 'message' && f.message.id === sent.body.id);
      expect(photoOf(live.message.imageUrl)).toBe(photoOf(up.url));
      const img = await fetch(t.url + live.message.imageUrl);
      expect(img.status).toBe(200);
      expect(img.headers.get('content-type')).toBe('image/png');
      // text with a photo is a text message carrying the photo
      const both = await post(a.token, a.groupId, '暖气片漏水了，看图', { photo: up.id });
      expect(both.body.kind).toBe('text');
      expect(photoOf(both.body.imageUrl)).toBe(photoOf(up.url));
      // someone else's upload is refused, with the field named
      const stolen = await post(b.token, b.groupId, '', { text: undefined, photo: up.id });
      expect(stolen.status).toBe(400);
      expect(stolen.body.error.details.fields).toEqual([{ field: 'photo', message: '照片不存在或已过期，请重新上传' }]);
      const bad = await post(b.token, b.groupId, '', { text: undefined, photo: 'up_nothex' });
      expect(bad.status).toBe(400);
      // staff photo
      const sup = await upload(agent1);
      const staffPhoto = await staffPost(agent1, a.groupId, { photo: sup.id });
      expect(staffPhoto.body).toMatchObject({ kind: 'image', sender: { kind: 'staff' } });
      expect(photoOf(staffPhoto.body.imageUrl)).toBe(photoOf(sup.url));
    } finally {
      cb.close();
    }
  });
});

describe('message → repair ticket', () => {
  it('an agent turns a resident’s message into a ticket, linked in the group by a reply quoting it', async () => {
    const a = await resident(0);
    const ca = await connect(a.token);
    try {
      const up = await upload(a.token);
      const q = await post(a.token, a.groupId, '卫生间暖气片接口滴水', { photo: up.id });
      // the other area's agent cannot
      expect((await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/repair`, { token: agent2, body: { category: 'leak' } })).status).toBe(404);
      // validation: category is required
      const invalid = await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/repair`, { token: agent1, body: {} });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.details.fields.map((f: any) => f.field)).toEqual(['category']);

      const res = await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/repair`, { token: agent1, body: { category: 'leak' } });
      expect(res.status).toBe(201);
      const { ticket, reply } = res.body;
      expect(ticket).toMatchObject({ no: expect.stringMatching(/^BX\d{8}\d{6}$/), emergency: true, status: expect.any(String) });
      expect(reply).toMatchObject({
        sender: { kind: 'staff', label: '李客服' },
        quote: { id: q.body.id, text: '卫生间暖气片接口滴水' },
        link: { path: '/pages/repairs/index' },
      });
      expect(reply.text).toContain(`工单号 ${ticket.no}`);
      // the resident sees the reply live, and the ticket is theirs, on their account, with the photo
      const live = await ca.next((f) => f.type === 'message' && f.message.id === reply.id);
      expect(live.message.text).toContain(ticket.no);
      const mine = await t.call('GET', '/api/v1/repairs', { token: a.token });
      const booked = mine.body.items.find((x: any) => x.id === ticket.id);
      expect(booked).toMatchObject({ accountId: a.accountId, category: 'leak', description: '卫生间暖气片接口滴水' });
      expect(booked.photos.map(photoOf)).toEqual([photoOf(up.url)]);
      const staffView = await t.call('GET', `/api/v1/staff/repairs/${ticket.id}`, { token: agent1 });
      expect(staffView.status).toBe(200);
      expect(staffView.body.timeline[0].reason).toContain('李客服代住户登记报修');
      // the question counts as answered, and the staff view of the message carries the ticket
      const pending = await t.call('GET', `/api/v1/staff/inbox?view=pending&groupId=${a.groupId}`, { token: agent1 });
      expect(pending.body.items.map((i: any) => i.message.id)).not.toContain(q.body.id);
      const all = await t.call('GET', `/api/v1/staff/inbox?view=all&groupId=${a.groupId}`, { token: agent1 });
      expect(all.body.items.find((i: any) => i.message.id === q.body.id).message.repairTicketId).toBe(ticket.id);
      // once only
      const again = await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/repair`, { token: agent1, body: { category: 'leak' } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('MESSAGE_ALREADY_REPAIR');
    } finally {
      ca.close();
    }
  });

  it('respects first-responder ownership, a race books one ticket, and a failed booking frees the message', async () => {
    const g0 = await groupOf(0);
    const a = await resident(0);
    const q = await post(a.token, a.groupId, '家里不热');
    await t.services.identity.createStaff({ username: 'agent6', name: '孙客服', password: 'demo-2026', roles: ['agent'], areaIds: [g0.areaId] });
    const agent6 = await t.loginStaff('agent6');
    expect((await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/claim`, { token: agent6 })).status).toBe(200);
    const blocked = await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/repair`, { token: agent1, body: { category: 'no_heat' } });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error).toMatchObject({ code: 'CLAIMED_BY_OTHER', details: { staffName: '孙客服' } });

    // an account that is not the resident's in this building fails: nothing is left reserved
    const q2 = await post(a.token, a.groupId, '暖气不热');
    const foreign = await t.call('POST', `/api/v1/staff/inbox/${q2.body.id}/repair`, { token: agent1, body: { category: 'no_heat', accountId: 999999 } });
    expect(foreign.status).toBe(404);
    expect((await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: q2.body.id })).repairTicketId).toBeNull();
    // the claim covers the resident's conversation, questions asked after it too, until released
    const long = await post(a.token, a.groupId, '暖'.repeat(600));
    expect((await t.call('POST', `/api/v1/staff/inbox/${long.body.id}/repair`, { token: agent1, body: { category: 'no_heat' } })).body.error.code).toBe(
      'CLAIMED_BY_OTHER',
    );
    expect((await t.call('POST', `/api/v1/staff/inbox/${q.body.id}/release`, { token: agent6 })).status).toBeLessThan(300);
    // a booking refused by repairs (a 600-character message is too long a description) frees the message again
    const tooLong = await t.call('POST', `/api/v1/staff/inbox/${long.body.id}/repair`, { token: agent1, body: { category: 'no_heat' } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details.fields[0]).toMatchObject({ field: 'description' });
    expect((await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: long.body.id })).repairTicketId).toBeNull();
    expect(
      (await t.call('POST', `/api/v1/staff/inbox/${long.body.id}/repair`, { token: agent1, body: { category: 'no_heat', description: '住户反映家里不热' } }))
        .status,
    ).toBe(201);

    const [r1, r2] = await Promise.all([
      t.call('POST', `/api/v1/staff/inbox/${q2.body.id}/repair`, { token: agent1, body: { category: 'no_heat' } }),
      t.call('POST', `/api/v1/staff/inbox/${q2.body.id}/repair`, { token: agent6, body: { category: 'no_heat' } }),
    ]);
    expect([r1.status, r2.status].sort()).toEqual([201, 409]);
    const mine = await t.call('GET', '/api/v1/repairs', { token: a.token });
    expect(mine.body.items.filter((x: any) => x.description === '暖气不热')).toHaveLength(1);
  });
});
