/**
 * The repairs read side on the real BFF (SQLite, or MariaDB with TEST_DATABASE_URL): the watch
 * list from last season's tickets and measurements, and SLA / satisfaction reports with XLSX.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompanyRules, lastSeasonStartYear, median, seasonWindow } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { demoHouseholds } from '../../demo/seed';
import { Area } from '../company/entities';

const china = (s: string) => new Date(s + '+08:00');
const rules = CompanyRules.parse({});

describe('season helpers', () => {
  it('the last finished season: during a season the one before, in summer the one just ended', () => {
    expect(lastSeasonStartYear(china('2026-11-25T10:00:00'), rules)).toBe(2025);
    expect(lastSeasonStartYear(china('2026-08-01T10:00:00'), rules)).toBe(2025);
    expect(lastSeasonStartYear(china('2026-03-01T10:00:00'), rules)).toBe(2024);
    const w = seasonWindow(2025, rules);
    expect(w.label).toBe('2025-2026');
    expect(w.start.toISOString()).toBe('2025-10-31T16:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-03-31T16:00:00.000Z');
    expect(median([])).toBeNull();
    expect(median([30, 10, 20])).toBe(20);
    expect(median([10, 90])).toBe(50);
  });
});

describe('watch list and reports over HTTP', () => {
  let t: TestApp;
  let now = china('2025-12-10T10:00:00');
  const at = (s: string) => (now = china(s));
  const households = demoHouseholds().filter((h) => h.status === 'active' && h.use === 'residential');
  const inBuilding = (b: number) => households.filter((h) => h.building === b);
  let areaA = 0;
  let areaB = 0;

  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true, clock: () => now });
    areaA = (await t.ds.getRepository(Area).findOneByOrFail({ code: 'A01' })).id;
    areaB = (await t.ds.getRepository(Area).findOneByOrFail({ code: 'A02' })).id;
  });
  afterAll(async () => t?.close());

  async function book(r: { token: string; accountId: number }, body: Record<string, unknown> = {}) {
    const res = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: { accountId: r.accountId, category: 'no_heat', description: '暖气片不热', ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: number };
  }
  const checks = { doorsWindowsClosed30Min: true, midRoom: true, height1_4m: true, stable5Min: true };
  async function measure(r: { token: string; accountId: number }, readingC: number) {
    const booked = await t.call('POST', '/api/v1/measurements', {
      token: r.token,
      body: { accountId: r.accountId, scheduledAt: china('2025-12-10T16:30:00').toISOString() },
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const station = await t.loginStaff('station1');
    // recorded at the visit: the server takes the time of measuring from its clock
    const before = now;
    now = china('2025-12-10T16:40:00');
    const rec = await t.call('POST', `/api/v1/staff/measurements/${booked.body.id}/readings`, {
      token: station,
      body: { readings: [{ room: '主卧', readingC, checks }] },
    });
    now = before;
    expect(rec.status, JSON.stringify(rec.body)).toBe(200);
  }

  it('lists last season’s cold households and buildings where ≥ 10 households complained (Heihe 004: by households, not tickets), for the staff of the area', async () => {
    at('2025-12-10T10:00:00');
    const b0 = inBuilding(0);
    const [repeated, ownReading, measuredLow, measuredOk, once] = await Promise.all(b0.slice(0, 5).map((h) => t.residentWith(h)));
    await book(repeated!, { category: 'low_temp', description: '卧室只有16度' });
    await book(repeated!, { category: 'low_temp', description: '还是不热，16度' });
    await book(ownReading!, { category: 'low_temp', description: '客厅温度低', residentReadingC: 16.5 });
    await book(once!, { category: 'low_temp', description: '有点凉，不太热' });
    await measure(measuredLow!, 17.2);
    await measure(measuredOk!, 20.5);
    // building 0 reaches 10 complaining households (11 tickets); building 3 (area B) stays at 9
    // households although one of them books 4 times (12 tickets: not a hazard by tickets alone)
    for (const h of b0.slice(5, 12)) await book(await t.residentWith(h));
    const b3 = await Promise.all(
      inBuilding(3)
        .slice(0, 9)
        .map((h) => t.residentWith(h)),
    );
    for (const r of b3) await book(r);
    for (let i = 0; i < 3; i++) await book(b3[0]!, { description: `又坏了，第${i + 2}次` });
    // this season's tickets do not count for last season
    at('2026-11-25T10:00:00');
    await book(await t.residentWith(b0[3]!), { category: 'low_temp', description: '今年也冷，只有17度' });

    const dispatcher = await t.loginStaff('dispatcher1');
    const res = await t.call('GET', '/api/v1/staff/repairs/watch-list', { token: dispatcher });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.season.label).toBe('2025-2026');
    const byNo = new Map(res.body.households.map((h: any) => [h.accountNo, h]));
    expect(byNo.get(b0[0]!.accountNo)).toMatchObject({ lowTempTickets: 2, reasons: ['室温不达标报修 2 次'] });
    expect(byNo.get(b0[1]!.accountNo)).toMatchObject({ lowestReadingC: 16.5, reasons: ['住户自测 16.5℃', '室温不达标报修 1 次'] });
    expect(byNo.get(b0[2]!.accountNo)).toMatchObject({ lowestReadingC: 17.2, reasons: ['测温 17.2℃ 低于18℃（不达标）'] });
    expect(byNo.has(b0[3]!.accountNo)).toBe(false);
    expect(byNo.has(b0[4]!.accountNo)).toBe(false);
    expect(res.body.households).toHaveLength(3);
    // the coldest first
    expect(res.body.households[0].accountNo).toBe(b0[1]!.accountNo);
    expect(res.body.households[0].address).toContain('1号楼');
    expect(res.body.buildings).toHaveLength(1);
    expect(res.body.buildings[0]).toMatchObject({ name: '1号楼', areaId: areaA, complaints: 10, tickets: 11, byCategory: { low_temp: 4, no_heat: 7 } });
    expect(res.body.thresholds).toMatchObject({ buildingComplaints: 10, repeatedLowTemp: 2 });

    // this season so far: only the one ticket
    const current = await t.call('GET', '/api/v1/staff/repairs/watch-list?season=2026', { token: dispatcher });
    expect(current.body.season.label).toBe('2026-2027');
    expect(current.body.households).toEqual([]);

    // area B staff see nothing of area A; residents are refused
    const agent2 = await t.loginStaff('agent2');
    const b = await t.call('GET', '/api/v1/staff/repairs/watch-list', { token: agent2 });
    expect(b.body.households).toEqual([]);
    expect(b.body.buildings).toEqual([]);
    expect((await t.call('GET', '/api/v1/staff/repairs/watch-list', { token: await t.loginResident('w-late') })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/staff/repairs/watch-list?season=abc', { token: dispatcher })).status).toBe(400);
  });

  it('reports SLA compliance per area and type, median times and satisfaction; XLSX export', async () => {
    const t0 = china('2027-01-10T10:00:00');
    const plus = (m: number) => (now = new Date(t0.getTime() + m * 60_000));
    plus(0);
    const [h1, h2, h4, h5] = inBuilding(1).slice(0, 4);
    const [r1, r2, r4, r5] = await Promise.all([h1!, h2!, h4!, h5!].map((h) => t.residentWith(h)));
    const r3 = await t.residentWith(inBuilding(4)[0]!);
    const agent1 = await t.loginStaff('agent1');
    const worker1 = await t.loginStaff('worker1');
    const act = async (token: string, id: number, path: string, body?: unknown) => {
      const res = await t.call('POST', `/api/v1/staff/repairs/${id}/${path}`, { token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    // routine, area A (agent1); a visit booked 10:00-12:00, so on site by 12:00 instead of Zibo 001's 30 minutes
    const T1 = await book(r1, {
      category: 'no_heat',
      slotStart: china('2027-01-10T10:00:00').toISOString(),
      slotEnd: china('2027-01-10T12:00:00').toISOString(),
    });
    const T2 = await book(r2, { category: 'leak', description: '暖气管漏水' }); // emergency, area A (worker1)
    const T3 = await book(r3, { category: 'no_heat' }); // routine, area B, never contacted
    const T5 = await book(r5, { category: 'valve', description: '阀门坏了' });
    expect((await t.call('POST', `/api/v1/repairs/${T5.id}/cancel`, { token: r5.token })).status).toBe(200);
    plus(10);
    await act(agent1, T1.id, 'contact');
    plus(60);
    await act(agent1, T1.id, 'arrive');
    plus(90);
    await act(worker1, T2.id, 'arrive'); // 30 min late, contact (5 min) missed too
    await act(worker1, T2.id, 'side', { side: 'company' });
    plus(100);
    await act(worker1, T2.id, 'resolve', { notes: '更换管段' });
    await act(worker1, T2.id, 'report', { report: '已恢复供热' });
    plus(120);
    await act(agent1, T1.id, 'side', { side: 'company' });
    await act(agent1, T1.id, 'resolve', { notes: '放气后恢复' });
    expect((await t.call('POST', `/api/v1/repairs/${T1.id}/rating`, { token: r1.token, body: { rating: 5 } })).body.status).toBe('closed');
    expect((await t.call('POST', `/api/v1/repairs/${T2.id}/rating`, { token: r2.token, body: { rating: 3 } })).body.status).toBe('closed');
    plus(195);
    await book(r4, { category: 'other', description: '咨询暖气问题' }); // contact still open
    plus(200);

    const dispatcher = await t.loginStaff('dispatcher1');
    const q = '?from=2027-01-10&to=2027-01-10';
    const res = await t.call('GET', `/api/v1/staff/repairs/report${q}`, { token: dispatcher });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const r = res.body;
    expect(r.total).toMatchObject({ tickets: 4, evaluated: 3, compliant: 1, rated: 2, avgRating: 4, satisfiedRate: 1 });
    expect(r.total.complianceRate).toBeCloseTo(1 / 3);
    expect(r.total).toMatchObject({ medianContactMinutes: 50, medianOnSiteMinutes: 75, medianDoneMinutes: 110 });
    // contact: T1 met, T2 missed, T3 missed (T4 still open)
    expect(r.total.contactRate).toBeCloseTo(1 / 3);
    // on site: T1 met (its booked slot), T2 missed (25 min, Changchun 000), T3 missed (30 min, Zibo 001); T4 still open
    expect(r.total.onSiteRate).toBeCloseTo(1 / 3);
    expect(r.total.doneRate).toBe(1);
    const area = Object.fromEntries(r.byArea.map((x: any) => [x.key, x]));
    expect(area[String(areaA)]).toMatchObject({ label: '南湖片区', tickets: 3, evaluated: 2, compliant: 1, complianceRate: 0.5 });
    expect(area[String(areaB)]).toMatchObject({ label: '东站片区', tickets: 1, evaluated: 1, compliant: 0, complianceRate: 0 });
    const cat = Object.fromEntries(r.byCategory.map((x: any) => [x.key, x]));
    expect(Object.keys(cat).sort()).toEqual(['leak', 'no_heat', 'other']);
    expect(cat.no_heat).toMatchObject({ label: '暖气不热/有空气', tickets: 2, complianceRate: 0.5 });
    expect(cat.leak).toMatchObject({ tickets: 1, complianceRate: 0, medianOnSiteMinutes: 90 });
    expect(r.byUrgency.map((x: any) => [x.key, x.tickets])).toEqual([
      ['emergency', 1],
      ['routine', 3],
    ]);
    expect(r.ratings.filter((x: any) => x.count)).toEqual([
      { stars: 3, count: 1 },
      { stars: 5, count: 1 },
    ]);

    // area B staff see area B only, and may not ask for area A
    const agent2 = await t.loginStaff('agent2');
    const b = await t.call('GET', `/api/v1/staff/repairs/report${q}`, { token: agent2 });
    expect(b.body.total.tickets).toBe(1);
    expect(b.body.byArea.map((x: any) => x.key)).toEqual([String(areaB)]);
    expect((await t.call('GET', `/api/v1/staff/repairs/report${q}&areaId=${areaA}`, { token: agent2 })).status).toBe(403);
    expect((await t.call('GET', `/api/v1/staff/repairs/report${q}`, { token: worker1 })).status).toBe(403);
    const bad = await t.call('GET', '/api/v1/staff/repairs/report?from=2027-02-01&to=2027-01-01', { token: dispatcher });
    expect(bad.status).toBe(400);

    // XLSX: per-area, per-type and urgency sheets and the rating spread
    const xlsx = await fetch(`${t.url}/api/v1/staff/repairs/report/export${q}`, { headers: { Authorization: `Bearer ${dispatcher}` } });
    expect(xlsx.status, await xlsx.clone().text()).toBe(200);
    expect(xlsx.headers.get('content-type')).toContain('spreadsheetml');
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as any);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['按片区', '按类型', '紧急与一般', '评价分布']);
    const ws = wb.getWorksheet('按片区')!;
    expect(String(ws.getCell('A1').value)).toContain('2027-01-10 至 2027-01-10');
    expect(ws.getRow(2).getCell(1).value).toBe('片区');
    expect(ws.getRow(3).values).toEqual(expect.arrayContaining(['南湖片区', 3, 2, 1, 50]));
    expect(ws.getRow(5).getCell(1).value).toBe('全部');
    expect(ws.getRow(5).getCell(9).value).toBe(50);
  });
});
