/**
 * The inbox's account context (GET /staff/inbox/:id/context) and the announcement preview
 * (POST /staff/announcements/preview) on the real BFF and a real database: what an agent sees
 * beside a question comes from the accounts, billing and repairs services (户号, address,
 * relation, bills due and paid, open tickets) for the question's building only; the preview
 * counts exactly the residents the announcement then pushes to, and posts nothing.
 */
import crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { testAppForFile } from '../../test-support/app-for-file';
import { DEMO, demoHouseholds } from '../../demo/seed';
import { Announcement, GroupMessage } from './entities';

const now = new Date('2026-11-20T02:00:00Z');
const t = testAppForFile({ seedDemo: true, clock: () => now });
let agent1: string;
let agent2: string;

beforeAll(async () => {
  agent1 = await t.loginStaff('agent1');
  agent2 = await t.loginStaff('agent2');
});

async function bind(token: string, h: { accountNo: string; ownerName: string }, relation: 'owner' | 'family' | 'tenant' = 'owner') {
  const res = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName, relation } });
  expect(res.status).toBe(201);
  return res.body as { accountId: number; buildingId: number; address: string; accountNo: string };
}

describe('the account context beside a question', () => {
  it('shows the asker’s accounts of this building with relation, bills (due and paid) and open tickets; nothing of their other homes', async () => {
    // DEMO.arrearsAccounts[0]: building 0 (area A), last season unpaid
    const owed = DEMO.arrearsAccounts[0]!;
    const elsewhere = demoHouseholds().find((h) => h.building === 3 && h.status === 'active')!;
    const token = await t.loginResident('ctx-' + crypto.randomUUID().slice(0, 8));
    const home = await bind(token, owed, 'tenant');
    const other = await bind(token, elsewhere);
    const groups = (await t.call('GET', '/api/v1/groups', { token })).body.items as { id: number; buildingId: number }[];
    const group = groups.find((g) => g.buildingId === home.buildingId)!;
    const ask = await t.call('POST', `/api/v1/groups/${group.id}/messages`, { token, body: { text: '我家暖气不热，欠费了吗？' } });
    expect(ask.status).toBe(201);
    const open = await t.call('POST', '/api/v1/repairs', { token, body: { accountId: home.accountId, category: 'no_heat', description: '卧室暖气片不热' } });
    expect(open.status).toBe(201);
    const cancelled = await t.call('POST', '/api/v1/repairs', { token, body: { accountId: home.accountId, category: 'valve', description: '阀门拧不动了' } });
    expect((await t.call('POST', `/api/v1/repairs/${cancelled.body.id}/cancel`, { token })).status).toBe(200);
    const elsewhereTicket = await t.call('POST', '/api/v1/repairs', {
      token,
      body: { accountId: other.accountId, category: 'no_heat', description: '另一套房不热' },
    });
    expect(elsewhereTicket.status).toBe(201);

    const res = await t.call('GET', `/api/v1/staff/inbox/${ask.body.id}/context`, { token: agent1 });
    expect(res.status).toBe(200);
    const ctx = res.body;
    expect(ctx.messageId).toBe(ask.body.id);
    expect(ctx.residentLabel).toMatch(/单元 /);
    expect(ctx.accounts).toHaveLength(1);
    const a = ctx.accounts[0];
    expect(a).toMatchObject({ accountId: home.accountId, accountNo: owed.accountNo, address: home.address, relation: 'tenant', relationLabel: '租户' });
    expect(a.ownerNameMasked).not.toBe(owed.ownerName);

    // the bills are the resident's bill list for this account, due and paid as billing says
    const bills = (await t.call('GET', '/api/v1/bills', { token })).body.items.filter((b: any) => b.accountId === home.accountId);
    expect(bills.length).toBeGreaterThan(0);
    expect(a.bills.map((b: any) => b.id).sort()).toEqual(bills.map((b: any) => b.id).sort());
    const unpaid = bills.filter((b: any) => b.status === 'unpaid');
    expect(unpaid.length).toBeGreaterThan(0);
    expect(a.dueFen).toBe(unpaid.reduce((s: number, b: any) => s + b.dueFen, 0));
    expect(a.dueFen).toBeGreaterThan(0);
    for (const b of a.bills) {
      const src = bills.find((x: any) => x.id === b.id);
      expect(b).toMatchObject({ season: src.season, status: src.status, paidFen: src.paidFen, dueFen: src.status === 'unpaid' ? src.dueFen : 0 });
      expect(b.statusLabel).toBe(src.status === 'unpaid' ? '待缴费' : src.status === 'paid' ? '已缴清' : '已作废');
    }

    // open tickets of this account only: not the cancelled one, not the other home's
    expect(ctx.openTickets.map((x: any) => x.id)).toEqual([open.body.id]);
    expect(ctx.openTickets[0]).toMatchObject({ no: open.body.no, accountId: home.accountId, categoryLabel: open.body.categoryLabel });
    expect(JSON.stringify(ctx)).not.toContain(elsewhere.accountNo);
  });

  it('is refused outside the agent’s areas, for hidden messages and for staff messages', async () => {
    const h = DEMO.accounts[2]!;
    const token = await t.loginResident('ctx-' + crypto.randomUUID().slice(0, 8));
    await bind(token, h);
    const group = (await t.call('GET', '/api/v1/groups', { token })).body.items[0];
    const ask = await t.call('POST', `/api/v1/groups/${group.id}/messages`, { token, body: { text: '请问什么时候来热？' } });
    const areaId = (await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: ask.body.id })).areaId;
    const outsider = areaId === (await t.services.accounts.listBuildings())[0]!.areaId ? agent2 : agent1;
    const insider = outsider === agent1 ? agent2 : agent1;
    expect((await t.call('GET', `/api/v1/staff/inbox/${ask.body.id}/context`, { token: insider })).status).toBe(200);
    expect([403, 404]).toContain((await t.call('GET', `/api/v1/staff/inbox/${ask.body.id}/context`, { token: outsider })).status);
    expect((await t.call('GET', `/api/v1/staff/inbox/${ask.body.id}/context`, { token })).status).toBe(403);

    const reply = await t.call('POST', `/api/v1/staff/groups/${group.id}/messages`, { token: insider, body: { text: '今天下午来热', quoteId: ask.body.id } });
    expect(reply.status).toBe(201);
    expect((await t.call('GET', `/api/v1/staff/inbox/${reply.body.id}/context`, { token: insider })).body.error.code).toBe('MESSAGE_NOT_FOUND');
    await t.call('POST', `/api/v1/staff/messages/${ask.body.id}/hide`, { token: insider, body: { reason: '测试' } });
    expect((await t.call('GET', `/api/v1/staff/inbox/${ask.body.id}/context`, { token: insider })).body.error.code).toBe('MESSAGE_NOT_FOUND');
  });
});

describe('the announcement preview', () => {
  it('counts the residents the announcement then pushes to, and posts nothing', async () => {
    const buildings = await t.services.accounts.listBuildings();
    const b0 = buildings[0]!;
    const body = { scope: 'building', targetId: b0.id, type: 'notice', title: '检修通知', body: '明天上午检修管线' };
    const before = await t.ds.getRepository(Announcement).count();
    const preview = await t.call('POST', '/api/v1/staff/announcements/preview', { token: agent1, body });
    expect(preview.status).toBe(200);
    expect(preview.body.groups).toBe(1);
    expect(preview.body.recipients).toBeGreaterThan(0);
    expect(preview.body.groupNames).toEqual([expect.stringContaining(b0.name)]);
    expect(await t.ds.getRepository(Announcement).count()).toBe(before);

    const sent = await t.call('POST', '/api/v1/staff/announcements', { token: agent1, body });
    expect(sent.status).toBe(201);
    expect(sent.body.delivery.recipients).toBe(preview.body.recipients);

    // the area: every building's group, each resident once
    const area = await t.call('POST', '/api/v1/staff/announcements/preview', { token: agent1, body: { ...body, scope: 'area', targetId: b0.areaId } });
    expect(area.body.groups).toBe(buildings.filter((b) => b.areaId === b0.areaId).length);
    expect(area.body.recipients).toBeGreaterThanOrEqual(preview.body.recipients);
  });

  it('checks like the announcement itself: the area, the restore time of an outage', async () => {
    const buildings = await t.services.accounts.listBuildings();
    const b0 = buildings[0]!;
    const outage = { scope: 'building', targetId: b0.id, type: 'outage', title: '停热通知', body: '主管线抢修' };
    const missing = await t.call('POST', '/api/v1/staff/announcements/preview', { token: agent1, body: outage });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields).toEqual([expect.objectContaining({ field: 'expectedRestoreAt' })]);
    const past = await t.call('POST', '/api/v1/staff/announcements/preview', {
      token: agent1,
      body: { ...outage, expectedRestoreAt: new Date(now.getTime() - 60_000).toISOString() },
    });
    expect(past.body.error.code).toBe('RESTORE_TIME_INVALID');
    const valid = { ...outage, expectedRestoreAt: new Date(now.getTime() + 3 * 3600_000).toISOString() };
    const ok = { ...(await t.call('POST', '/api/v1/staff/announcements/preview', { token: agent1, body: valid })), request: valid };
    expect(ok.status).toBe(200);
    expect([403, 404]).toContain((await t.call('POST', '/api/v1/staff/announcements/preview', { token: agent2, body: ok.request })).status);
    expect(
      (await t.call('POST', '/api/v1/staff/announcements/preview', { token: agent1, body: { ...ok.request, scope: 'all', targetId: undefined } })).status,
    ).toBe(403);
  });
});
