/**
 * 报停/复供 end to end: the real BFF, the WeChat and WeChat Pay simulators, a real database
 * (MariaDB with TEST_DATABASE_URL). Payment-related tests run on the real clock (WeChat Pay
 * signatures need it) against a future season; deadline tests run on a controlled clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeClosesAt, CompanyRules, isChangeOpen, nextOpenSeason, repeatLimitProblems } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO, demoHouseholds, demoSeason } from '../../demo/seed';
import { Company } from '../company/entities';
import { Account } from '../accounts/entities';
import { OutboxMessage } from '../../platform/entities';

/** the documents of an application: the submitter's own ID-document uploads */
async function docs(t: TestApp, token: string, kinds = ['id_photo']) {
  const out: { kind: string; url: string }[] = [];
  for (const kind of kinds) {
    const up = await t.upload(token, 'id_document');
    expect(up.status).toBe(201);
    out.push({ kind, url: up.body.id });
  }
  return out;
}
/** a valve-work photo taken by the crew */
const valvePhoto = async (t: TestApp, token: string) => (await t.upload(token, 'valve_photo')).body.id as string;
/** which photo a signed link shows */
const photoOf = (url: string | null) => url?.split('?')[0];
/** the demo's current season and the one after it, as of the test's clock (HB_TEST_NOW) */
const CURRENT = DEMO.seasons[1]!.code;
const NY = Number(CURRENT.slice(0, 4)) + 1;
const NEXT = `${NY}-${NY + 1}`;

async function setRules(t: TestApp, patch: Partial<CompanyRules>) {
  const company = await t.ds.getRepository(Company).findOneOrFail({ where: {}, order: { id: 'ASC' } });
  company.rules = { ...(company.rules ?? {}), ...patch };
  await t.ds.getRepository(Company).save(company);
}

describe('the deadline rule (pure)', () => {
  const rules = CompanyRules.parse({});
  it('closes at the next midnight China time after Sept 20 of the season’s start year, whatever the server zone', () => {
    expect(changeClosesAt('2026-2027', rules).toISOString()).toBe('2026-09-20T16:00:00.000Z');
    expect(isChangeOpen('2026-2027', new Date('2026-09-20T23:59:59+08:00'), rules)).toBe(true);
    expect(isChangeOpen('2026-2027', new Date('2026-09-21T00:00:00+08:00'), rules)).toBe(false);
    expect(nextOpenSeason(new Date('2026-09-21T00:00:00+08:00'), rules)).toBe('2027-2028');
    expect(nextOpenSeason(new Date('2026-09-20T23:59:59+08:00'), rules)).toBe('2026-2027');
    expect(isChangeOpen('2026-2027', new Date('2026-09-21T00:00:00+08:00'), { changeDeadline: '09-25' })).toBe(true);
  });
  it('keeps old company settings parsing, with the service-change defaults', () => {
    expect(CompanyRules.parse({ changeDeadline: '09-15' }).serviceChange).toEqual({
      maxChangesPerSeason: 1,
      noResumeAfterStopInSameSeason: true,
      requiredDocuments: ['id_photo'],
      stopValveAction: 'close',
      resumeRequiresArrearsCleared: true,
    });
  });
  it('limits repeated changes as configured', () => {
    const stopDone = [{ kind: 'stop' as const, state: 'done' as const }];
    expect(repeatLimitProblems('resume', stopDone, rules)).toHaveLength(2);
    const lenient = CompanyRules.parse({ serviceChange: { maxChangesPerSeason: 2, noResumeAfterStopInSameSeason: false } });
    expect(repeatLimitProblems('resume', stopDone, lenient)).toEqual([]);
    expect(repeatLimitProblems('stop', [{ kind: 'stop', state: 'cancelled' }], rules)).toEqual([]);
  });
});

describe('deadline and late acceptance (controlled clock)', () => {
  let t: TestApp;
  let now = new Date('2026-09-20T23:59:59+08:00');
  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true, clock: () => now });
  });
  afterAll(async () => t?.close());

  it('accepts 2026-09-20 23:59:59 +08:00 and refuses 2026-09-21 00:00:00 +08:00, offering the next season', async () => {
    now = new Date('2026-09-20T23:59:59+08:00');
    const a = await t.residentWith(DEMO.accounts[0]!);
    const ok = await t.call('POST', '/api/v1/service-changes', {
      token: a.token,
      body: { accountId: a.accountId, season: '2026-2027', kind: 'stop', documents: await docs(t, a.token) },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ state: 'submitted', kind: 'stop', late: false, season: '2026-2027' });

    now = new Date('2026-09-21T00:00:00+08:00');
    const b = await t.residentWith(DEMO.accounts[1]!);
    const late = await t.call('POST', '/api/v1/service-changes', {
      token: b.token,
      body: { accountId: b.accountId, season: '2026-2027', kind: 'stop', documents: await docs(t, b.token) },
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('SERVICE_CHANGE_DEADLINE_PASSED');
    expect(late.body.error.details).toMatchObject({ season: '2026-2027', deadline: '2026-09-20 23:59:59', nextSeason: '2027-2028' });
    expect(late.body.error.details.message).toContain('2026年9月20日23:59:59截止');
    expect(late.body.error.details.message).toContain('2027—2028采暖季');

    const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${b.accountId}&season=2026-2027&kind=stop`, { token: b.token });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ open: false, nextSeason: '2027-2028', deadline: '2026-09-20 23:59:59' });
    expect(preview.body.problems[0]).toContain('截止');
  });

  it('lets only an admin accept a late application, and only with a recorded reason', async () => {
    now = new Date('2026-10-08T10:00:00+08:00');
    const acc = DEMO.accounts[2]!;
    const accountId = (await t.ds.getRepository(Account).findOneByOrFail({ accountNo: acc.accountNo })).id;
    const agent = await t.loginStaff('agent1');
    const byAgent = await t.call('POST', '/api/v1/staff/service-changes', {
      token: agent,
      body: { accountId, season: '2026-2027', kind: 'stop', documents: await docs(t, agent), lateReason: '住院无法按时办理' },
    });
    expect(byAgent.status).toBe(409);
    expect(byAgent.body.error.code).toBe('SERVICE_CHANGE_DEADLINE_PASSED');
    const admin = await t.loginStaff('admin');
    const body = { accountId, season: '2026-2027', kind: 'stop', documents: await docs(t, admin) };
    const noReason = await t.call('POST', '/api/v1/staff/service-changes', { token: admin, body });
    expect(noReason.body.error.code).toBe('SERVICE_CHANGE_LATE_REASON');
    const ok = await t.call('POST', '/api/v1/staff/service-changes', { token: admin, body: { ...body, lateReason: '户主住院，9月无法到营业厅' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ late: true, lateReason: '户主住院，9月无法到营业厅', state: 'submitted' });
    expect(ok.body.timeline[0].reason).toContain('逾期受理');
  });

  it('with no season open, says when the next window opens and gives the hotline; once the company sets the season up it is offered (issue 17 item 1)', async () => {
    now = new Date('2026-11-28T10:00:00+08:00');
    const a = await t.residentWith(DEMO.accounts[4]!);
    const hotline = (await t.services.company.info()).hotline;
    const none = await t.call('GET', '/api/v1/service-changes/windows', { token: a.token });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({
      open: [],
      next: {
        season: '2027-2028',
        label: '2027—2028采暖季',
        deadline: '2027-09-20 23:59:59',
        text: '现在不在报停/复供办理期。2027—2028采暖季的报停/复供预计2027年4月1日本采暖季结束后，公司公布热价时开放，截止2027年9月20日23:59:59。',
      },
      // this winter: its deadline has passed, what resuming now means is said for it
      closed: { season: '2026-2027', label: '2026—2027采暖季', deadline: '2026-09-20 23:59:59' },
      hotline,
    });
    expect(hotline).toMatch(/\d/);
    await t.services.billing.createSeason(demoSeason(2027));
    const open = await t.call('GET', '/api/v1/service-changes/windows', { token: a.token });
    expect(open.body.open).toEqual([{ season: '2027-2028', label: '2027—2028采暖季', deadline: '2027-09-20 23:59:59' }]);
    expect(open.body.next).toBeNull();
    // a stop needs this season paid (arrears first): paid at the counter
    const bill = (await t.services.billing.billsOfSeason('2026-2027')).find((b) => b.accountNo === DEMO.accounts[4]!.accountNo)!;
    await t.services.billing.settleAtCounter(bill.id, now);
    const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${a.accountId}&season=2027-2028&kind=stop`, { token: a.token });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ open: true, problems: [] });
    // a household stopped this winter: resuming now costs the full fee (the base fee counted), the valve opens after payment
    await t.services.accounts.setStatus(t.ds.manager, a.accountId, 'stopped');
    const resume = await t.call('GET', `/api/v1/service-changes/preview?accountId=${a.accountId}&season=2026-2027&kind=resume`, { token: a.token });
    expect(resume.body.open).toBe(false);
    expect(resume.body.fee.text).toMatch(/^复供须缴纳全额热费¥[\d,.]+.*缴费后安排开阀$/);
    expect(resume.body.fee.fullFen).toBeGreaterThan(0);
    await t.services.accounts.setStatus(t.ds.manager, a.accountId, 'active');
    expect((await t.call('GET', '/api/v1/service-changes/windows', {})).status).toBe(401);
  });
});

describe('stop and resume (the test clock, the season after the current one)', () => {
  let t: TestApp;
  let agent1: string;
  let agent2: string;
  let station: string;
  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true });
    await t.services.billing.createSeason(demoSeason(NY));
    await t.services.billing.issueBills(NEXT);
    agent1 = await t.loginStaff('agent1');
    agent2 = await t.loginStaff('agent2');
    station = await t.loginStaff('station1');
  });
  afterAll(async () => t?.close());

  const sandbox = () => t.sandbox!.state;

  /** A demo account with this season's bill settled at the counter (no arrears). */
  async function clearAccount(acc: { accountNo: string }) {
    const bill = (await t.services.billing.billsOfSeason(CURRENT)).find((b) => b.accountNo === acc.accountNo)!;
    await t.services.billing.settleAtCounter(bill.id, new Date());
  }

  /** The season's bill of the account as its detail page shows it (the list's summary, with its lines). */
  async function seasonBill(token: string, accountNo: string, season = NEXT) {
    const res = await t.call('GET', '/api/v1/bills', { token });
    const summary = res.body.items.find((b: any) => b.accountNo === accountNo && b.season === season);
    expect(summary).toBeDefined();
    const detail = await t.call('GET', `/api/v1/bills/${summary.id}`, { token });
    expect(detail.status).toBe(200);
    return detail.body;
  }

  async function pay(r: { token: string; user: string }, billId: number) {
    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId } });
    expect(created.status).toBe(201);
    const res = await t.call('POST', '/sandbox/device/pay', { body: { ...created.body.requestPayment, user: r.user, action: 'confirm' } });
    expect(res.body.errMsg).toBe('requestPayment:ok');
    await sandbox().settleNotifications();
    const confirmed = await t.call('POST', `/api/v1/payments/${created.body.id}/confirm`, { token: r.token });
    expect(confirmed.body.status).toBe('paid');
    return created.body;
  }

  const submit = async (token: string, accountId: number, kind: 'stop' | 'resume', documents?: { kind: string; url: string }[]) =>
    t.call('POST', '/api/v1/service-changes', { token, body: { accountId, season: NEXT, kind, documents: documents ?? (await docs(t, token)) } });

  it('refuses a stop while the account owes money, saying how much and which bills to pay', async () => {
    const owed = DEMO.arrearsAccounts[0]!;
    const r = await t.residentWith(owed);
    const res = await submit(r.token, r.accountId, 'stop');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('SERVICE_CHANGE_ARREARS');
    const bills = (await t.call('GET', '/api/v1/bills', { token: r.token })).body.items.filter((b: any) => b.status === 'unpaid' && b.season < NEXT);
    expect(res.body.error.details.bills.map((b: any) => b.billId).sort()).toEqual(bills.map((b: any) => b.id).sort());
    expect(res.body.error.details.totalFen).toBe(bills.reduce((s: number, b: any) => s + b.dueFen, 0));
    expect(res.body.error.details.message).toMatch(/欠费¥[\d,]+\.\d{2}/);
    const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${NEXT}&kind=stop`, { token: r.token });
    expect(preview.body.arrears.totalFen).toBe(res.body.error.details.totalFen);
    expect(preview.body.problems.some((p: string) => p.includes('欠费'))).toBe(true);
  });

  it('stops: base-fee bill on approval, close-valve order for the crew, status changes only when done; no resume in the same season', async () => {
    const acc = DEMO.accounts[3]!;
    await clearAccount(acc);
    const r = await t.residentWith(acc);
    await t.allowMessages(r.token, r.user, ['serviceChangeProgress']);
    const before = await seasonBill(r.token, acc.accountNo);
    expect(before).toMatchObject({ kind: 'full', status: 'unpaid' });

    const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${NEXT}&kind=stop`, { token: r.token });
    expect(preview.body).toMatchObject({ open: true, problems: [], requiredDocuments: [{ kind: 'id_photo', label: '户主身份证照片' }] });
    expect(preview.body.fee.fullFen).toBe(before.chargeFen);
    expect(preview.body.fee.newChargeFen).toBe(Math.floor((before.chargeFen * 3000 + 5000) / 10000));
    expect(preview.body.rules.join('')).toContain('最多办理1次');

    const created = await submit(r.token, r.accountId, 'stop');
    expect(created.status).toBe(201);
    const id = created.body.id;
    const approved = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent1 });
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('work_order');
    expect(approved.body.workOrder).toMatchObject({ action: 'close', state: 'open', dueDate: `${NY}-10-31`, substation: expect.any(String) });

    const after = await seasonBill(r.token, acc.accountNo);
    expect(after).toMatchObject({ id: before.id, kind: 'base', status: 'unpaid', chargeFen: preview.body.fee.newChargeFen });
    expect(after.lines.map((l: any) => l.label)).toEqual(['供热费', '报停减免']);
    // still heated until the crew closes the valve
    expect((await t.ds.getRepository(Account).findOneByOrFail({ id: r.accountId })).status).toBe('active');

    // cancelling after approval is refused
    const cancel = await t.call('POST', `/api/v1/service-changes/${id}/cancel`, { token: r.token });
    expect(cancel.status).toBe(409);

    // the crew, the counter and the resident see the same order
    const orders = await t.call('GET', `/api/v1/staff/valve-orders?state=open&season=${NEXT}`, { token: station });
    const order = orders.body.items.find((o: any) => o.applicationId === id);
    expect(order).toMatchObject({ accountNo: acc.accountNo, actionLabel: '关阀' });
    const noPhoto = await t.call('POST', `/api/v1/staff/valve-orders/${order.id}/done`, { token: station, body: {} });
    expect(noPhoto.status).toBe(400);
    const byAgent = await t.call('POST', `/api/v1/staff/valve-orders/${order.id}/done`, { token: agent1, body: { photoUrl: 'up_' + '0'.repeat(32) } });
    expect(byAgent.status).toBe(403);
    // only the crew member's own valve photo
    const foreignPhoto = await t.call('POST', `/api/v1/staff/valve-orders/${order.id}/done`, {
      token: station,
      body: { photoUrl: await valvePhoto(t, agent1) },
    });
    expect(foreignPhoto.status).toBe(400);
    const valve = await valvePhoto(t, station);
    const done = await t.call('POST', `/api/v1/staff/valve-orders/${order.id}/done`, { token: station, body: { photoUrl: valve, note: '已关阀' } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: 'done' });
    expect(photoOf(done.body.photoUrl)).toBe(`/api/v1/uploads/${valve}`);
    expect((await fetch(t.url + done.body.photoUrl)).status).toBe(200);
    expect((await t.ds.getRepository(Account).findOneByOrFail({ id: r.accountId })).status).toBe('stopped');

    const mine = await t.call('GET', `/api/v1/service-changes/${id}`, { token: r.token });
    expect(mine.body.state).toBe('done');
    expect(mine.body.timeline.map((s: any) => s.state)).toEqual(['submitted', 'under_review', 'approved', 'work_order', 'done']);
    expect(mine.body.timeline.at(-1).data).toMatchObject({ action: 'close' });
    expect(JSON.stringify(mine.body.timeline)).not.toContain(valve);
    const counter = await t.call('GET', `/api/v1/staff/service-changes/${id}`, { token: agent1 });
    expect(counter.body.workOrder).toEqual(mine.body.workOrder);

    // a subscription message at each step
    await t.services.outbox.drain();
    const msgs = sandbox().subscribeMessages.filter(
      (m) => m.templateId === t.services.notifications.templateId('serviceChangeProgress') && m.data.thing1!.value.includes(acc.accountNo),
    );
    expect(msgs.length).toBeGreaterThanOrEqual(1);
    const queued = await t.ds.getRepository(OutboxMessage).find({ where: { topic: 'wechat.subscribe' } });
    const mineQueued = queued.filter((m) => (m.payload as any).template === 'serviceChangeProgress' && (m.payload as any).data.thing1.includes(acc.accountNo));
    expect(mineQueued.map((m) => (m.payload as any).data.phrase2)).toEqual(['已提交', '施工中', '已完成']);

    // repeat limits: no resume in the season a stop was carried out, shown before applying
    const resume = await submit(r.token, r.accountId, 'resume');
    expect(resume.status).toBe(409);
    expect(resume.body.error.code).toBe('SERVICE_CHANGE_LIMIT');
    expect(resume.body.error.details.problems).toHaveLength(2);
    const rp = await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${NEXT}&kind=resume`, { token: r.token });
    expect(rp.body.problems).toEqual(resume.body.error.details.problems);
  });

  it('resumes only after the full fee (the difference over a paid base fee) is paid, then opens the valve', async () => {
    const h = demoHouseholds().find((x, i) => x.status === 'stopped' && x.use === 'residential' && x.accountNo.startsWith('01') && i % 17 !== 5)!;
    const r = await t.residentWith(h);
    await clearAccount(h); // a resume needs earlier seasons paid (issue 16)
    const base = await seasonBill(r.token, h.accountNo);
    expect(base).toMatchObject({ kind: 'base', status: 'unpaid' });
    await pay(r, base.id);

    const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${NEXT}&kind=resume`, { token: r.token });
    const full = preview.body.fee.fullFen;
    expect(preview.body.fee).toMatchObject({ newChargeFen: full, paidFen: base.chargeFen, dueFen: full - base.chargeFen });

    const created = await submit(r.token, r.accountId, 'resume');
    expect(created.status).toBe(201);
    const id = created.body.id;
    await t.call('POST', `/api/v1/staff/service-changes/${id}/review`, { token: agent1 });
    const approved = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent1 });
    expect(approved.body).toMatchObject({ state: 'awaiting_payment', dueFen: full - base.chargeFen, workOrder: null, billId: base.id });
    const bill = await seasonBill(r.token, h.accountNo);
    expect(bill).toMatchObject({ kind: 'full', status: 'unpaid', chargeFen: full, paidFen: base.chargeFen, dueFen: full - base.chargeFen });
    const orders = await t.call('GET', '/api/v1/staff/valve-orders', { token: station });
    expect(orders.body.items.some((o: any) => o.applicationId === id)).toBe(false);

    const order = await pay(r, bill.id);
    expect(order.amountFen).toBe(full - base.chargeFen);
    const paid = await t.call('GET', `/api/v1/service-changes/${id}`, { token: r.token });
    expect(paid.body).toMatchObject({ state: 'work_order', workOrder: { action: 'open', state: 'open' } });
    expect((await seasonBill(r.token, h.accountNo)).status).toBe('paid');

    const done = await t.call('POST', `/api/v1/staff/valve-orders/${paid.body.workOrder.id}/done`, {
      token: station,
      body: { photoUrl: await valvePhoto(t, station) },
    });
    expect(done.status).toBe(200);
    expect((await t.ds.getRepository(Account).findOneByOrFail({ id: r.accountId })).status).toBe('active');
  });

  it('stops an account that had already paid the full fee: the bill becomes the base fee and the difference is owed back', async () => {
    const acc = DEMO.accounts[9]!;
    await clearAccount(acc);
    const r = await t.residentWith(acc);
    const full = await seasonBill(r.token, acc.accountNo);
    await t.services.billing.settleAtCounter(full.id, new Date());
    const preview = await t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=${NEXT}&kind=stop`, { token: r.token });
    const base = preview.body.fee.baseFen;
    expect(preview.body.fee).toMatchObject({ paidFen: full.chargeFen, refundDueFen: full.chargeFen - base, dueFen: 0 });
    const id = (await submit(r.token, r.accountId, 'stop')).body.id;
    const approved = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent1 });
    expect(approved.body).toMatchObject({ state: 'work_order', refundDueFen: full.chargeFen - base });
    const bill = await seasonBill(r.token, acc.accountNo);
    expect(bill).toMatchObject({ kind: 'base', status: 'paid', chargeFen: base, paidFen: full.chargeFen });
    expect(bill.lines.find((l: any) => l.label === '报停应退')).toMatchObject({ amountFen: full.chargeFen - base });
  });

  it('stops an account that paid the full fee by WeChat Pay: the part above the base fee is refunded the same way', async () => {
    const acc = DEMO.accounts[8]!;
    await clearAccount(acc);
    const r = await t.residentWith(acc);
    const full = await seasonBill(r.token, acc.accountNo);
    const order = await pay(r, full.id);
    const id = (await submit(r.token, r.accountId, 'stop')).body.id;
    const approved = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent1 });
    const owed = approved.body.refundDueFen as number;
    expect(owed).toBeGreaterThan(0);
    await t.services.outbox.drain();
    const [refund] = (await t.call('GET', `/api/v1/payments/${order.id}`, { token: r.token })).body.refunds;
    expect(refund).toMatchObject({ amountFen: owed, kind: 'other', reason: '报停：退还超出基础热费的已缴热费', status: 'processing' });
    await t.sandbox!.state.completeRefund(refund.outRefundNo);
    await t.sandbox!.state.settleNotifications();
    const after = (await t.call('GET', `/api/v1/payments/${order.id}`, { token: r.token })).body;
    expect(after).toMatchObject({ refundedFen: owed, refunds: [{ status: 'success' }] });
  });

  it('moves a resume on when its bill is settled at the counter instead', async () => {
    const h = demoHouseholds().filter((x, i) => x.status === 'stopped' && x.use === 'residential' && x.accountNo.startsWith('01') && i % 17 !== 5)[1]!;
    const r = await t.residentWith(h);
    await clearAccount(h); // a resume needs earlier seasons paid (issue 16)
    const id = (await submit(r.token, r.accountId, 'resume')).body.id;
    const approved = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent1 });
    expect(approved.body.state).toBe('awaiting_payment');
    expect(approved.body.dueFen).toBeGreaterThan(0);
    await t.services.billing.settleAtCounter(approved.body.billId, new Date());
    // moved on after the counter's commit, by the outbox (the bill.settled_at_counter reaction)
    await t.services.outbox.drain();
    expect((await t.ds.query(`SELECT state FROM service_change WHERE id = ${Number(id)}`))[0].state).toBe('work_order');
    const seen = await t.call('GET', `/api/v1/service-changes/${id}`, { token: r.token });
    expect(seen.body).toMatchObject({ state: 'work_order', workOrder: { action: 'open', state: 'open' } });
  });

  it('lists every document problem at once; the resident fixes them in the same application', async () => {
    await setRules(t, {
      serviceChange: {
        maxChangesPerSeason: 1,
        noResumeAfterStopInSameSeason: true,
        requiredDocuments: ['id_photo', 'property_certificate'],
        stopValveAction: 'close',
        resumeRequiresArrearsCleared: true,
      },
    });
    try {
      const acc = DEMO.accounts[4]!;
      await clearAccount(acc);
      const r = await t.residentWith(acc);
      const missing = await submit(r.token, r.accountId, 'stop', []);
      expect(missing.status).toBe(400);
      expect(missing.body.error.details.missing.map((m: any) => m.label)).toEqual(['户主身份证照片', '房产证照片']);

      const both = await docs(t, r.token, ['id_photo', 'property_certificate']);
      const created = await submit(r.token, r.accountId, 'stop', both);
      const id = created.body.id;
      const rejected = await t.call('POST', `/api/v1/staff/service-changes/${id}/reject`, {
        token: agent1,
        body: {
          problems: [
            { document: 'id_photo', message: '照片模糊，看不清证件号' },
            { document: 'property_certificate', message: '产权人与户主不一致' },
            { message: '请填写联系电话' },
          ],
        },
      });
      expect(rejected.status).toBe(200);
      expect(rejected.body.state).toBe('rejected');
      expect(rejected.body.problems).toHaveLength(3);
      const seen = await t.call('GET', `/api/v1/service-changes/${id}`, { token: r.token });
      const step = seen.body.timeline.find((s: any) => s.state === 'rejected');
      expect(step.reason).toContain('户主身份证照片：照片模糊');
      expect(step.reason).toContain('房产证照片：产权人与户主不一致');
      expect(step.reason).toContain('3. 请填写联系电话');

      // a second application is refused: fix this one
      const again = await submit(r.token, r.accountId, 'stop', both);
      expect(again.body.error.code).toBe('SERVICE_CHANGE_EXISTS');
      const fixed = await t.call('POST', `/api/v1/service-changes/${id}/resubmit`, {
        token: r.token,
        body: { documents: await docs(t, r.token, ['id_photo', 'property_certificate']), note: '电话13800000000' },
      });
      expect(fixed.status).toBe(200);
      expect(fixed.body).toMatchObject({ id, state: 'submitted', note: '电话13800000000' });
      const ok = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent1 });
      expect(ok.body.state).toBe('work_order');
      expect(ok.body.problems).toEqual([]);
      expect(ok.body.timeline.map((s: any) => s.state)).toEqual([
        'submitted',
        'under_review',
        'rejected',
        'submitted',
        'under_review',
        'approved',
        'work_order',
      ]);
    } finally {
      await setRules(t, { serviceChange: undefined as any });
    }
  });

  it('cancels before approval; two concurrent submissions make one application', async () => {
    const acc = DEMO.accounts[5]!;
    await clearAccount(acc);
    const r = await t.residentWith(acc);
    const both = await Promise.all([submit(r.token, r.accountId, 'stop'), submit(r.token, r.accountId, 'stop')]);
    expect(both.map((x) => x.status).sort()).toEqual([201, 409]);
    const list = await t.call('GET', '/api/v1/service-changes', { token: r.token });
    expect(list.body.items.filter((a: any) => a.accountId === r.accountId)).toHaveLength(1);
    const id = both.find((x) => x.status === 201)!.body.id;
    const cancelled = await t.call('POST', `/api/v1/service-changes/${id}/cancel`, { token: r.token });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', cancellable: false });
    // a cancelled application does not count: the resident may apply again
    expect((await submit(r.token, r.accountId, 'stop')).status).toBe(201);
  });

  it('ID documents go only to the applicant and the area’s reviewers; a co-binder sees the status but can’t see, fix or cancel', async () => {
    const acc = DEMO.accounts[10]!;
    await clearAccount(acc);
    const owner = await t.residentWith(acc);
    // another resident binds the same account by the owner's name
    const coBinder = await t.residentWith(acc);
    const documents = await docs(t, owner.token);
    const key = documents[0]!.url;
    const created = await submit(owner.token, owner.accountId, 'stop', documents);
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.documents[0]).toMatchObject({ kind: 'id_photo', label: '户主身份证照片', id: key });
    expect((await fetch(t.url + created.body.documents[0].url)).status).toBe(200);
    expect(created.body.cancellable).toBe(true);

    const hidden = [{ kind: 'id_photo', label: '户主身份证照片', id: null, url: null }];
    const seen = await t.call('GET', `/api/v1/service-changes/${id}`, { token: coBinder.token });
    expect(seen.status).toBe(200);
    expect(seen.body.documents).toEqual(hidden);
    expect(seen.body.cancellable).toBe(false);
    const list = await t.call('GET', '/api/v1/service-changes', { token: coBinder.token });
    expect(list.body.items.some((a: any) => a.id === id)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(key);
    const cancel = await t.call('POST', `/api/v1/service-changes/${id}/cancel`, { token: coBinder.token });
    expect(cancel.status).toBe(403);
    expect(cancel.body.error).toMatchObject({ code: 'SERVICE_CHANGE_NOT_APPLICANT', message: expect.stringContaining('本人') });
    const fix = await t.call('POST', `/api/v1/service-changes/${id}/resubmit`, { token: coBinder.token, body: { documents: await docs(t, coBinder.token) } });
    expect(fix.status).toBe(403);
    // nor can the co-binder file the owner's photo under their own name
    expect((await submit(coBinder.token, coBinder.accountId, 'resume', documents)).status).toBe(400);

    // reviewers of the area (agents, admins) get a link that opens; other roles only see which documents there are
    for (const username of ['agent1', 'admin']) {
      const v = await t.call('GET', `/api/v1/staff/service-changes/${id}`, { token: await t.loginStaff(username) });
      expect(photoOf(v.body.documents[0].url)).toBe(`/api/v1/uploads/${key}`);
      expect((await fetch(t.url + v.body.documents[0].url)).status).toBe(200);
    }
    for (const username of ['finance1', 'worker1', 'station1', 'dispatcher1']) {
      const token = await t.loginStaff(username);
      const v = await t.call('GET', `/api/v1/staff/service-changes/${id}`, { token });
      expect(v.status, username).toBe(200);
      expect(v.body.documents, username).toEqual(hidden);
      const l = await t.call('GET', `/api/v1/staff/service-changes?season=${NEXT}&pageSize=100`, { token });
      expect(JSON.stringify(l.body), username).not.toContain(key);
    }
    // staff of another area: not even the application
    expect((await t.call('GET', `/api/v1/staff/service-changes/${id}`, { token: agent2 })).status).toBe(404);
    // the key alone opens nothing, logged in or not
    for (const headers of [{}, { Authorization: `Bearer ${coBinder.token}` }] as Record<string, string>[])
      expect((await fetch(`${t.url}/api/v1/uploads/${key}`, { headers })).status).toBe(403);

    // the applicant may cancel
    const mine = await t.call('POST', `/api/v1/service-changes/${id}/cancel`, { token: owner.token });
    expect(mine.body).toMatchObject({ state: 'cancelled' });
  });

  it('shows an application only to residents of its account and staff of its area', async () => {
    const acc = DEMO.accounts[6]!;
    await clearAccount(acc);
    const owner = await t.residentWith(acc);
    const id = (await submit(owner.token, owner.accountId, 'stop')).body.id;
    const other = await t.residentWith(DEMO.accounts[7]!);
    for (const [method, path] of [
      ['GET', `/api/v1/service-changes/${id}`],
      ['POST', `/api/v1/service-changes/${id}/cancel`],
    ] as const) {
      const res = await t.call(method, path, { token: other.token });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('SERVICE_CHANGE_NOT_FOUND');
    }
    const probe = await t.call('GET', `/api/v1/service-changes/preview?accountId=${owner.accountId}&season=${NEXT}&kind=stop`, { token: other.token });
    expect(probe.status).toBe(404);
    const foreign = await submit(other.token, owner.accountId, 'stop');
    expect(foreign.status).toBe(404);
    expect((await t.call('GET', '/api/v1/service-changes', { token: other.token })).body.items.some((a: any) => a.id === id)).toBe(false);

    // agent2 serves the other area
    const approve = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent2 });
    expect(approve.status).toBe(404);
    const list = await t.call('GET', '/api/v1/staff/service-changes?state=submitted', { token: agent2 });
    expect(list.body.items.some((a: any) => a.id === id)).toBe(false);
    const mine = await t.call('GET', `/api/v1/staff/service-changes?state=submitted&season=${NEXT}`, { token: agent1 });
    expect(mine.body.items.some((a: any) => a.id === id)).toBe(true);
    // the list exports to XLSX with the same scope
    const ExcelJS = (await import('exceljs')).default;
    const sheetOf = async (token: string) => {
      const res = await fetch(`${t.url}/api/v1/staff/service-changes/export?season=${NEXT}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.headers.get('content-type')).toContain('spreadsheetml');
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as any);
      const rows: unknown[][] = [];
      wb.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
      return rows;
    };
    const rows1 = await sheetOf(agent1);
    expect(rows1[0]!.slice(0, 4)).toEqual(['申请编号', '类型', '采暖季', '户号']);
    expect(rows1.some((row) => row[0] === id && row[3] === acc.accountNo && row[7] === '已提交')).toBe(true);
    expect((await sheetOf(agent2)).some((row) => row[0] === id)).toBe(false);
    // the crew cannot review
    const byStation = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: station });
    expect(byStation.status).toBe(403);
    // a resident cannot use staff routes
    expect((await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: owner.token })).status).toBe(403);
  });
});
