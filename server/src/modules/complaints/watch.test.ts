/**
 * The low-temperature watch program on the real BFF and database (Heihe 004, "solve before the
 * complaint"): visits to last season's watch-list households from the first heating day, a
 * re-measure task 30 min after a 室温不达标 fix when the household read below 20 °C, and the hazard
 * ledger of buildings where ≥ N households complained (repair tickets and complaints alike).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { demoHouseholds } from '../../demo/seed';

const china = (s: string) => new Date(s + '+08:00');

describe('watch program over HTTP', () => {
  let t: TestApp;
  let now = china('2025-12-10T10:00:00');
  const households = demoHouseholds().filter((h) => h.status === 'active' && h.use === 'residential');
  const inBuilding = (b: number) => households.filter((h) => h.building === b);
  let agent1 = '';
  let worker1 = '';
  let admin = '';

  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true, clock: () => now });
  });
  // the clock jumps across seasons: fresh staff sessions for each test
  beforeEach(async () => {
    agent1 = await t.loginStaff('agent1');
    worker1 = await t.loginStaff('worker1');
    admin = await t.loginStaff('admin');
  });
  afterAll(async () => t?.close());

  async function book(r: { token: string; accountId: number }, body: Record<string, unknown> = {}) {
    const res = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: { accountId: r.accountId, category: 'no_heat', description: '暖气片不热', ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: number; no: string };
  }
  /** the area's worker goes through the ticket to 已完工 */
  async function fix(id: number) {
    const dispatcher = await t.loginStaff('dispatcher1');
    const worker = (await t.call('GET', `/api/v1/staff/repairs/${id}/assignees`, { token: dispatcher })).body.items.find((s: any) => s.name === '钱师傅');
    await t.call('POST', `/api/v1/staff/repairs/${id}/assign`, { token: dispatcher, body: { staffId: worker.id } });
    for (const [step, body] of [['arrive'], ['side', { side: 'company' }], ['resolve', { notes: '排气后恢复' }]] as const) {
      const res = await t.call('POST', `/api/v1/staff/repairs/${id}/${step}`, { token: worker1, body });
      expect(res.status, `${step} ${JSON.stringify(res.body)}`).toBe(200);
    }
  }
  const tasks = async (token: string, q = '') => (await t.call('GET', `/api/v1/staff/watch/tasks${q}`, { token })).body.items as any[];

  it('Heihe 004: a 室温不达标 repair fixed while the household read below 20 °C gets a re-measure task due 30 min after the fix (once)', async () => {
    now = china('2025-12-10T10:00:00');
    const [cold, warm, noReading] = await Promise.all(
      inBuilding(0)
        .slice(0, 3)
        .map((h) => t.residentWith(h)),
    );
    const c = await book(cold!, { category: 'low_temp', description: '卧室只有17度', residentReadingC: 17 });
    const w = await book(warm!, { category: 'low_temp', description: '客厅20.5度不够暖', residentReadingC: 20.5 });
    const n = await book(noReading!, { category: 'low_temp', description: '感觉有点凉' });
    for (const id of [c.id, w.id, n.id]) await fix(id);
    const fixedAt = now;
    expect(await t.services.watch.run()).toMatchObject({ remeasures: 1 });
    expect(await t.services.watch.run()).toMatchObject({ remeasures: 0 });
    const open = (await tasks(agent1, '?kind=remeasure')).filter((x) => x.repairTicketId === c.id);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ kind: 'remeasure', kindLabel: '修复后复测室温', accountId: cold!.accountId, status: 'open', overdue: false });
    expect(open[0].reason).toContain('17.0℃');
    expect(new Date(open[0].dueAt).getTime() - fixedAt.getTime()).toBe(30 * 60_000);
    expect((await tasks(agent1, '?kind=remeasure')).some((x) => x.repairTicketId === w.id || x.repairTicketId === n.id)).toBe(false);

    // staff of another area don't see or complete it
    const agent2 = await t.loginStaff('agent2');
    expect((await tasks(agent2)).some((x) => x.id === open[0].id)).toBe(false);
    expect((await t.call('POST', `/api/v1/staff/watch/tasks/${open[0].id}/done`, { token: agent2, body: { readingC: 21 } })).status).toBe(404);
    // a re-measurement needs its reading
    now = new Date(fixedAt.getTime() + 31 * 60_000);
    expect((await tasks(agent1, '?kind=remeasure')).find((x) => x.id === open[0].id).overdue).toBe(true);
    const noValue = await t.call('POST', `/api/v1/staff/watch/tasks/${open[0].id}/done`, { token: agent1, body: {} });
    expect(noValue.status).toBe(400);
    expect(noValue.body.error.code).toBe('WATCH_TASK_READING_REQUIRED');
    const done = await t.call('POST', `/api/v1/staff/watch/tasks/${open[0].id}/done`, {
      token: agent1,
      body: { readingC: 20.6, notes: '门窗关闭30分钟后复测' },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: 'done', readingC: 20.6 });
    expect((await t.call('POST', `/api/v1/staff/watch/tasks/${open[0].id}/done`, { token: agent1, body: { readingC: 21 } })).status).toBe(409);
    expect((await tasks(agent1, '?status=done')).map((x) => x.id)).toContain(open[0].id);

    // the company's numbers: re-measure below 22 °C, 45 minutes after
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    const watchList = { ...cur.rules.repairs.watchList, remeasureBelowC: 22, remeasureAfterMinutes: 45 };
    const saved = await t.call('PUT', '/api/v1/admin/settings', {
      token: admin,
      body: { ...cur, rules: { ...cur.rules, repairs: { ...cur.rules.repairs, watchList } } },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(await t.services.watch.run()).toMatchObject({ remeasures: 1 });
    const warmTask = (await tasks(agent1, '?kind=remeasure')).find((x) => x.repairTicketId === w.id);
    expect(new Date(warmTask.dueAt).getTime() - fixedAt.getTime()).toBe(45 * 60_000);
    await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: cur });
  });

  it('Heihe 004: last season’s watch-list households get a visit task from the first heating day, not before', async () => {
    // the watch list of 2025-2026 holds the cold household of the test above (17 °C, building 0)
    // and a household with two 室温不达标 tickets
    now = china('2026-01-15T10:00:00');
    const repeated = await t.residentWith(inBuilding(1)[0]!);
    await book(repeated, { category: 'low_temp', description: '卧室16度' });
    await book(repeated, { category: 'low_temp', description: '又只有16度' });

    now = china('2026-10-31T23:59:00');
    admin = await t.loginStaff('admin');
    expect(await t.services.watch.run()).toMatchObject({ visits: 0 });
    now = china('2026-11-01T00:05:00');
    const first = await t.services.watch.run();
    expect(first.visits).toBeGreaterThanOrEqual(2);
    expect(await t.services.watch.run()).toMatchObject({ visits: 0 });
    const visits = (await tasks(admin, '?kind=first_day_visit&pageSize=100')).filter((x) => x.kind === 'first_day_visit');
    expect(visits.map((x) => x.accountId)).toEqual(expect.arrayContaining([repeated.accountId]));
    const v = visits.find((x) => x.accountId === repeated.accountId);
    expect(v.kindLabel).toBe('供热首日走访');
    expect(v.reason).toContain('室温不达标报修 2 次');
    // due by the end of the first heating day (China time)
    expect(v.dueAt).toBe(china('2026-11-02T00:00:00').toISOString());
  });

  it('Heihe 004: the hazard ledger lists buildings where ≥ N households complained in the season, counting complaints with repair tickets', async () => {
    now = china('2027-01-05T10:00:00');
    agent1 = await t.loginStaff('agent1');
    admin = await t.loginStaff('admin');
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    const watchList = { ...cur.rules.repairs.watchList, buildingComplaintHouseholds: 3 };
    await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: { ...cur, rules: { ...cur.rules, repairs: { ...cur.rules.repairs, watchList } } } });
    const [a, b, c] = await Promise.all(
      inBuilding(2)
        .slice(0, 3)
        .map((h) => t.residentWith(h)),
    );
    await book(a!);
    await book(a!, { description: '还是不热啊' });
    await book(b!);
    const before = await t.call('GET', '/api/v1/staff/watch/hazards', { token: agent1 });
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body).toMatchObject({ season: { label: '2026-2027' }, threshold: 3 });
    expect(before.body.buildings.some((x: any) => x.name === '5号楼')).toBe(false);
    // a complaint (part A) is the third complaining household
    expect((await t.call('POST', '/api/v1/complaints', { token: c!.token, body: { accountId: c!.accountId, content: '整栋楼都不热' } })).status).toBe(201);
    const after = await t.call('GET', '/api/v1/staff/watch/hazards', { token: agent1 });
    const building = after.body.buildings.find((x: any) => x.name === '5号楼');
    expect(building.households).toHaveLength(3);
    const byAccount = new Map(building.households.map((h: any) => [h.accountId, h]));
    expect(byAccount.get(a!.accountId)).toMatchObject({ repairTickets: 2, complaints: 0 });
    expect(byAccount.get(c!.accountId)).toMatchObject({ repairTickets: 0, complaints: 1 });
    // area B staff see nothing of area A; residents are refused
    const agent2 = await t.loginStaff('agent2');
    expect((await t.call('GET', '/api/v1/staff/watch/hazards', { token: agent2 })).body.buildings.some((x: any) => x.name === '5号楼')).toBe(false);
    expect((await t.call('GET', '/api/v1/staff/watch/hazards', { token: c!.token })).status).toBe(403);
    await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: cur });
  });
});
