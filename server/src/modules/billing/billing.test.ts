import { beforeAll, describe, expect, it } from 'vitest';
import { testAppForFile } from '../../test-support/app-for-file';
import { lastSeasonStartYear, seasonCodeOf } from '@heat-butler/shared';
import { DEMO } from '../../demo/seed';

/** the demo's last and current seasons, and the one after, as of the test's clock (HB_TEST_NOW) */
const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];
const NY = Number(CURRENT.slice(0, 4)) + 1;
const NEXT = `${NY}-${NY + 1}`;

const t = testAppForFile();
let admin: string;
beforeAll(async () => {
  admin = await t.loginStaff('admin');
});

const season = {
  code: NEXT,
  startDate: `${NY}-11-01`,
  endDate: `${NY + 1}-04-01`,
  dueDate: `${NY}-12-31`,
  tariffs: { residential: 2800, commercial: 3900 },
  baseFeeRatioBp: 2500,
};

describe('the bill list', () => {
  it('each resident sees the bills of their own accounts only, asked in turn and at once (the list reuses its built SQL)', async () => {
    const [a, b] = DEMO.accounts.slice(1, 3);
    const ra = await t.residentWith(a!);
    const rb = await t.residentWith(b!);
    const nobody = await t.loginResident();
    const list = async (token: string) => (await t.call('GET', '/api/v1/bills', { token })).body.items.map((x: any) => x.accountNo);
    for (let i = 0; i < 2; i++) {
      expect(new Set(await list(ra.token))).toEqual(new Set([a!.accountNo]));
      expect(new Set(await list(rb.token))).toEqual(new Set([b!.accountNo]));
      expect(await list(nobody)).toEqual([]);
    }
    const together = await Promise.all([ra.token, rb.token, nobody, rb.token, ra.token].map(list));
    expect(together.map((nos) => [...new Set(nos)])).toEqual([[a!.accountNo], [b!.accountNo], [], [b!.accountNo], [a!.accountNo]]);
  });
  it('shows each bill’s figures without its lines; each bill’s detail has the same figures and the lines that add up to what is due', async () => {
    // last season unpaid and overdue (a late fee), this season paid at the counter
    const r = await t.residentWith(DEMO.arrearsAccounts[5]!);
    const listed = async () => (await t.call('GET', '/api/v1/bills', { token: r.token })).body.items;
    const cur = (await listed()).find((b: any) => b.season === CURRENT);
    await t.services.billing.settleAtCounter(cur.id, new Date());
    const items = await listed();
    expect(items.map((b: any) => [b.season, b.status])).toEqual([
      [LAST, 'unpaid'],
      [CURRENT, 'paid'],
    ]);
    expect(items[0].lateFeeFen).toBeGreaterThan(0);
    for (const summary of items) {
      expect(summary).not.toHaveProperty('lines');
      const detail = (await t.call('GET', `/api/v1/bills/${summary.id}`, { token: r.token })).body;
      const { lines, ...figures } = detail;
      expect(figures).toEqual(summary);
      expect(lines.reduce((sum: number, l: any) => sum + l.amountFen, 0)).toBe(summary.dueFen);
    }
  });
});

describe('seasons and tariffs are data an admin sets', () => {
  it('lists every problem of a bad season at once', async () => {
    const res = await t.call('POST', '/api/v1/staff/seasons', {
      token: admin,
      body: {
        code: '2027-2029',
        startDate: '2027/11/01',
        endDate: '2027-10-01',
        dueDate: '2027-12-31',
        tariffs: { residential: 0, commercial: 3900 },
        baseFeeRatioBp: 12000,
      },
    });
    expect(res.status).toBe(400);
    const fields = res.body.error.details.fields.map((f: any) => f.field).sort();
    expect(fields).toEqual(['baseFeeRatioBp', 'code', 'endDate', 'startDate', 'tariffs.residential']);
    for (const f of res.body.error.details.fields) expect(f.message).toMatch(/[\u4e00-\u9fa5]/);
  });

  it('creates a season, issues its bills once, and refuses a duplicate', async () => {
    const created = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: NEXT, label: `${NY}—${NY + 1}采暖季`, tariffs: season.tariffs, baseFeeRatioBp: 2500, discountBp: 0 });
    const issued = await t.call('POST', `/api/v1/staff/seasons/${NEXT}/bills`, { token: admin });
    expect(issued.body.issued).toBeGreaterThan(200);
    expect(issued.body).toMatchObject({ billed: issued.body.issued, total: issued.body.issued, remaining: 0 });
    const again = await t.call('POST', `/api/v1/staff/seasons/${NEXT}/bills`, { token: admin });
    expect(again.body).toMatchObject({ issued: 0, billed: issued.body.issued, remaining: 0 });
    const dup = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('SEASON_EXISTS');
    // the new tariff applies to later bills only; issued bills keep their price
    const upd = await t.call('PUT', `/api/v1/staff/seasons/${NEXT}`, { token: admin, body: { ...season, tariffs: { residential: 3000, commercial: 3900 } } });
    expect(upd.status).toBe(200);
    const bills = await t.services.billing.billsOfSeason(NEXT);
    expect((await t.services.billing.bill(bills[0]!.id))!.unitPriceFen).toBe(2800);
  });

  it('lets only admins change seasons; finance may read them', async () => {
    const finance = await t.loginStaff('finance1');
    const agent = await t.loginStaff('agent1');
    const resident = await t.loginResident();
    expect((await t.call('POST', '/api/v1/staff/seasons', { token: finance, body: season })).status).toBe(403);
    expect((await t.call('POST', '/api/v1/staff/seasons', { token: resident, body: season })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/staff/seasons', { token: agent })).status).toBe(403);
    const list = await t.call('GET', '/api/v1/staff/seasons', { token: finance });
    expect(list.body.items.map((s: any) => s.code)).toEqual([NEXT, CURRENT, LAST]);
  });
});

describe('出账: preview, issue in steps with progress, never twice (issue 17 item 1)', () => {
  const Y = NY + 2;
  const code = `${Y}-${Y + 1}`;
  const body = { ...season, code, startDate: `${Y}-11-01`, endDate: `${Y + 1}-04-01`, dueDate: `${Y}-12-31` };

  it('refuses a bad season with each field’s own Chinese message', async () => {
    const res = await t.call('POST', '/api/v1/staff/seasons', {
      token: admin,
      body: { ...body, startDate: `${Y + 1}-11-01`, discountBp: 9000, lateFeeDailyBp: 50, lateFeeCapBp: -1, discountUntil: `${Y + 1}-01-31` },
    });
    expect(res.status).toBe(400);
    const byField = Object.fromEntries(res.body.error.details.fields.map((f: any) => [f.field, f.message]));
    expect(byField).toMatchObject({ discountBp: '优惠比例不能超过50%', lateFeeDailyBp: '每日滞纳金不能超过2‰', lateFeeCapBp: '滞纳金上限不能小于0%' });
    const refined = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: { ...body, startDate: `${Y + 1}-11-01`, endDate: `${Y + 2}-04-01` } });
    expect(refined.status).toBe(400);
    expect(refined.body.error.details.fields).toEqual([{ field: 'startDate', message: `${code}采暖季的开始日期应在${Y}年` }]);
    const late = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: { ...body, discountBp: 200, discountUntil: `${Y + 1}-01-31` } });
    expect(late.body.error.details.fields).toEqual([{ field: 'discountUntil', message: '优惠截止日期不能晚于缴费截止日期' }]);
    for (const r of [res, refined, late]) expect(r.body.error.message).not.toMatch(/期望|string|number|undefined|Invalid/);
  });

  it('previews who gets which bill and who is skipped, issues in steps, and a second run issues nothing', async () => {
    expect((await t.call('POST', '/api/v1/staff/seasons', { token: admin, body })).status).toBe(201);
    // one household closed (销户): no bill, and the preview says why
    const closedNo = DEMO.accounts[10]!.accountNo;
    const closedId = (await t.services.accounts.idsByAccountNo([closedNo])).get(closedNo)!;
    await t.services.accounts.setStatus(t.ds.manager, closedId, 'closed');
    try {
      const finance = await t.loginStaff('finance1');
      const preview = (await t.call('GET', `/api/v1/staff/seasons/${code}/bills`, { token: finance })).body;
      expect(preview).toMatchObject({ season: code, billed: 0, issued: 0, skipped: [{ reason: '已销户，不再出账', count: 1 }] });
      expect(preview.remaining).toBe(preview.total);
      expect(preview.pending.full + preview.pending.base).toBe(preview.total);
      expect(preview.pending.base).toBeGreaterThan(0); // the demo's stopped households: base fee
      expect(preview.pending.amountFen).toBeGreaterThan(0);

      // in steps of 100: progress after each, the last step issues the rest
      const steps: number[] = [];
      for (let i = 0; i < 10; i++) {
        const step = await t.call('POST', `/api/v1/staff/seasons/${code}/bills?batch=100`, { token: finance });
        expect(step.status).toBe(200);
        steps.push(step.body.issued);
        expect(step.body.billed + step.body.remaining).toBe(preview.total);
        if (!step.body.remaining) break;
      }
      expect(steps.reduce((a, b) => a + b, 0)).toBe(preview.total);
      expect(steps[0]).toBe(100);
      const again = await t.call('POST', `/api/v1/staff/seasons/${code}/bills`, { token: admin });
      expect(again.body).toMatchObject({ issued: 0, billed: preview.total, remaining: 0, pending: { full: 0, base: 0, amountFen: 0 } });
      const bills = await t.services.billing.billsOfSeason(code);
      expect(bills.length).toBe(preview.total);
      expect(bills.some((b) => b.accountNo === closedNo)).toBe(false);
      const agent = await t.loginStaff('agent1');
      expect((await t.call('POST', `/api/v1/staff/seasons/${code}/bills`, { token: agent })).status).toBe(403);
    } finally {
      await t.services.accounts.setStatus(t.ds.manager, closedId, 'active');
    }
  });

  it('two issuers at once issue each bill once', async () => {
    const y = Y + 1;
    const c = `${y}-${y + 1}`;
    expect(
      (
        await t.call('POST', '/api/v1/staff/seasons', {
          token: admin,
          body: { ...body, code: c, startDate: `${y}-11-01`, endDate: `${y + 1}-04-01`, dueDate: `${y}-12-31` },
        })
      ).status,
    ).toBe(201);
    const [a, b] = await Promise.all([0, 1].map(() => t.call('POST', `/api/v1/staff/seasons/${c}/bills`, { token: admin })));
    expect([a!.status, b!.status]).toEqual([200, 200]);
    expect(a!.body.issued + b!.body.issued).toBe(a!.body.total);
    expect((await t.services.billing.billsOfSeason(c)).length).toBe(a!.body.total);
  });

  it('the seasons list says the company’s default ratio and which season is billed now', async () => {
    const list = (await t.call('GET', '/api/v1/staff/seasons', { token: admin })).body;
    expect(list.baseFeeRatioBp).toBe((await t.services.company.rules()).baseFeeRatioBp);
    // during a season that season, after it ended the next one if it exists (bills go out before it starts)
    const billing = seasonCodeOf(lastSeasonStartYear(new Date(), await t.services.company.rules()) + 1);
    expect(list.current).toBe(list.items.map((x: any) => x.code).find((c: string) => c <= billing));
    if (new Date().getUTCMonth() >= 10 || new Date().getUTCMonth() <= 2) expect(list.current).toBe(CURRENT);
  });
});

async function putRules(patch: (rules: any) => void) {
  const cur = await t.call('GET', '/api/v1/admin/settings', { token: admin });
  const next = structuredClone(cur.body);
  patch(next.rules);
  const res = await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: next });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return cur.body;
}

/** a demo household with last season unpaid (arrears), now stopped (报停) */
async function stoppedInArrears(n: number) {
  const r = await t.residentWith(DEMO.arrearsAccounts[n]!);
  await t.services.accounts.setStatus(t.ds.manager, r.accountId, 'stopped');
  return r;
}

describe('报停基础热费比例: the company setting is the default copied into new seasons (issue 16 item 2; Heilongjiang 条例 §35 via domain-rules.md §3)', () => {
  it('saving 20% makes the next new season 20%; existing seasons and their previews keep their own ratio, as the settings page says', async () => {
    const before = await putRules((r) => (r.baseFeeRatioBp = 2000));
    try {
      const y = NY + 1;
      const code = `${y}-${y + 1}`;
      const { baseFeeRatioBp: _omit, ...withoutRatio } = { ...season, code, startDate: `${y}-11-01`, endDate: `${y + 1}-04-01`, dueDate: `${y}-12-31` };
      const created = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: withoutRatio });
      expect(created.status).toBe(201);
      expect(created.body.baseFeeRatioBp).toBe(2000);
      // an update without a ratio keeps the season's own
      await putRules((r) => (r.baseFeeRatioBp = 2500));
      const upd = await t.call('PUT', `/api/v1/staff/seasons/${code}`, {
        token: admin,
        body: { ...withoutRatio, tariffs: { residential: 2900, commercial: 3900 } },
      });
      expect(upd.body.baseFeeRatioBp).toBe(2000);
      // the current season keeps the ratio it was created with (30%), and the stop preview says so
      const list = await t.call('GET', '/api/v1/staff/seasons', { token: admin });
      expect(list.body.items.find((x: any) => x.code === CURRENT).baseFeeRatioBp).toBe(3000);
      const r = await t.residentWith(DEMO.accounts[11]!);
      const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${CURRENT}&kind=stop`, { token: r.token });
      expect(preview.status).toBe(200);
      expect(JSON.stringify(preview.body)).toContain('按30%收取基础热费');
    } finally {
      await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: before });
    }
  });
});

describe('arrears first (issue 16 item 1; Changchun 000: arrears → valve shut, the bill page lists arrears first)', () => {
  it('a newer bill alone is refused with ARREARS_FIRST while last season is unpaid; the bill says which to pay first; once paid, the newer one is payable', async () => {
    const owed = DEMO.arrearsAccounts[1]!;
    const r = await t.residentWith(owed);
    const bills = (await t.call('GET', '/api/v1/bills', { token: r.token })).body.items;
    const last = bills.find((b: any) => b.season === LAST);
    const cur = bills.find((b: any) => b.season === CURRENT);
    expect(last.payFirst).toBeNull();
    expect(cur.payFirst).toEqual({ billId: last.id, season: LAST, seasonLabel: last.seasonLabel, dueFen: last.dueFen });
    const one = await t.call('GET', `/api/v1/bills/${cur.id}`, { token: r.token });
    expect(one.body.payFirst).toEqual(cur.payFirst);

    const refused = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: cur.id } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ARREARS_FIRST');
    expect(refused.body.error.details.bills).toEqual([{ billId: last.id, season: LAST, dueFen: last.dueFen }]);
    expect(refused.body.error.message).toContain('请先缴清往年欠费');

    // the arrears themselves can be paid
    const arrears = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: last.id } });
    expect(arrears.status).toBe(201);
    // paid (at the counter here): now the newer bill is payable
    await t.services.billing.settleAtCounter(last.id, new Date());
    const after = (await t.call('GET', `/api/v1/bills/${cur.id}`, { token: r.token })).body;
    expect(after.payFirst).toBeNull();
    const ok = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: cur.id } });
    expect(ok.status).toBe(201);
  });

  it('a resume (复供) needs the arrears cleared too, as a company setting (default on)', async () => {
    const r = await stoppedInArrears(2);
    const preview = async () =>
      (await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${CURRENT}&kind=resume`, { token: r.token })).body;
    const on = await preview();
    expect(on.problems.join('')).toMatch(/请先缴清欠费再复供/);
    const blocking = await t.services.billing.arrearsBlocking(r.accountId, CURRENT, 'resume', await t.services.company.rules());
    expect(blocking).toMatchObject({ totalFen: on.arrears.totalFen, message: expect.stringContaining('再复供') });
    const before = await putRules((rules) => (rules.serviceChange.resumeRequiresArrearsCleared = false));
    try {
      expect((await preview()).problems.join('')).not.toMatch(/欠费/);
    } finally {
      await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: before });
    }
  });
});

describe('no late fee while the heat is off (issue 16 item 5; domain-rules.md §3, Tianjin: the penalty stops when heat is cut off)', () => {
  it('a stopped household’s overdue bill carries no late fee by default; with the setting off it does, capped and said so', async () => {
    const r = await stoppedInArrears(3);
    // the bill's detail: the list's figures with the lines that explain them
    const lastBill = async () => {
      const summary = (await t.call('GET', '/api/v1/bills', { token: r.token })).body.items.find((b: any) => b.season === LAST);
      return (await t.call('GET', `/api/v1/bills/${summary.id}`, { token: r.token })).body;
    };
    const off = await lastBill();
    expect(off.lateFeeFen).toBe(0);
    expect(off.dueFen).toBe(off.chargeFen);
    expect(off.lines.find((l: any) => l.label === '滞纳金')).toMatchObject({ amountFen: 0, detail: expect.stringContaining('停热') });
    const before = await putRules((rules) => (rules.billing.noLateFeeWhileHeatOff = false));
    try {
      const on = await lastBill();
      // last season is long overdue: the 10% cap applies, and the line says so
      expect(on.lateFeeFen).toBe(Math.floor((on.chargeFen * 1000 + 5000) / 10000));
      expect(on.lines.find((l: any) => l.label === '滞纳金').detail).toMatch(/^逾期\d+天，每日1‰，累计超过10%上限，按上限10%收取$/);
    } finally {
      await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: before });
    }
  });
});
