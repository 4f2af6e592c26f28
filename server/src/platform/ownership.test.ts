/**
 * Object ownership, generated from the route table: every route that takes an id (in its path, its
 * body or its query) is called with the ids of one resident's objects (area A) by a second resident
 * (area B) and by a staff member of each allowed role who serves only area B. Each must be refused
 * (404/403; a list filtered by a foreign id may answer, without the object). The fixtures below say
 * how to call each route; a route that takes an id and has no fixture here (nor a reason to be
 * exempt) fails the test, so a new route is never left out.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chinaDate, chinaDayStart, nextOpenSeason, type StaffRole } from '@heat-butler/shared';
import { RepairCallback } from '../modules/repairs/entities';
import { WatchTask } from '../modules/complaints/entities';
import { startTestApp, type TestApp } from '../test-support/app';
import { DEMO, demoHouseholds } from '../demo/seed';
import { concretePath, paramNames, routeName, routeTable, shapeOf, staffPerRole } from '../test-support/routes';
import type { RegisteredRoute } from './http';

let t: TestApp;
/** the season still open for stop/resume applications, made if the demo lacks it */
let season = '';

/** The objects of resident O (area A), and what the intruders hold in area B. */
interface Fixtures {
  accountId: number;
  accountNo: string;
  buildingId: number;
  areaA: number;
  residentId: number;
  billId: number;
  orderId: number;
  titleId: number;
  invoiceId: number;
  repairId: number;
  callbackId: number;
  measurementId: number;
  groupId: number;
  messageId: number;
  messageText: string;
  serviceChangeId: number;
  valveOrderId: number;
  cannedId: number;
  complaintId: number;
  watchTaskId: number;
  /** the intruders' own: resident I's account and group (area B) */
  otherAccountId: number;
  otherGroupId: number;
}
let fx: Fixtures;
let intruder = '';
let outside = {} as Record<StaffRole, string>;
let ownerToken = '';
let inside = {} as Record<StaffRole, string>;

/** a measurement slot: tomorrow 17:00 China time (inside the default 16:00–20:00 window) */
const SLOT = `${chinaDate(new Date(Date.now() + 86_400_000))}T17:00:00+08:00`;
const checks = { doorsWindowsClosed30Min: true, midRoom: true, height1_4m: true, stable5Min: true };

async function ok(res: Promise<{ status: number; body: any }>, what: string) {
  const r = await res;
  if (r.status >= 300) throw new Error(`fixture ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

beforeAll(async () => {
  // the real clock: the WeChat Pay simulator checks signatures and expiry against it
  t = await startTestApp({ seedDemo: true });
  const areas = await t.services.company.areas();
  const areaA = areas.find((a) => a.code === 'A01')!.id;
  const areaB = areas.find((a) => a.code === 'A02')!.id;
  [inside, outside] = [await staffPerRole(t, 'in', [areaA]), await staffPerRole(t, 'out', [areaB])];
  const call = t.call;
  season = nextOpenSeason(new Date(), await t.services.company.rules());
  const seasons = await ok(call('GET', '/api/v1/staff/seasons', { token: inside.admin }), 'seasons');
  if (!(seasons.items ?? seasons).some((s: any) => s.code === season)) {
    const y = Number(season.slice(0, 4));
    const body = {
      code: season,
      startDate: `${y}-11-01`,
      endDate: `${y + 1}-04-01`,
      dueDate: `${y}-12-31`,
      tariffs: { residential: 2700, commercial: 3800 },
      baseFeeRatioBp: 3000,
    };
    await ok(call('POST', '/api/v1/staff/seasons', { token: inside.admin, body }), 'season');
    await ok(call('POST', `/api/v1/staff/seasons/${season}/bills`, { token: inside.admin }), 'bills');
  }

  // resident O in area A, with one of everything
  const o = DEMO.accounts[0]!;
  const user = 'own-' + crypto.randomUUID().slice(0, 8);
  ownerToken = await t.loginResident(user);
  const token = ownerToken;
  const bound = await ok(call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: o.accountNo, ownerName: o.ownerName } }), 'bind');
  const me = await ok(call('GET', '/api/v1/me', { token }), 'me');
  const groups = await ok(call('GET', '/api/v1/groups', { token }), 'groups');
  const messageText = '暗号' + crypto.randomUUID().slice(0, 8);
  const message = await ok(call('POST', `/api/v1/groups/${groups.items[0].id}/messages`, { token, body: { text: messageText } }), 'message');
  const bills = await ok(call('GET', '/api/v1/bills', { token }), 'bills');
  // the oldest unpaid bill (arrears first)
  const bill = bills.items.filter((b: any) => b.status === 'unpaid').sort((a: any, b: any) => a.season.localeCompare(b.season))[0];
  const order = await ok(call('POST', '/api/v1/payments', { token, body: { billId: bill.id } }), 'order');
  await call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user, action: 'confirm' } });
  await t.sandbox!.state.settleNotifications();
  await ok(call('POST', `/api/v1/payments/${order.id}/confirm`, { token }), 'confirm');
  const upload = await ok(t.upload(token, 'id_document'), 'upload');
  const sc = await ok(
    call('POST', '/api/v1/service-changes', {
      token,
      body: { accountId: bound.accountId, season, kind: 'stop', documents: [{ kind: 'id_photo', url: upload.id }] },
    }),
    'service change',
  );
  await ok(call('POST', `/api/v1/staff/service-changes/${sc.id}/review`, { token: inside.agent }), 'review');
  await ok(call('POST', `/api/v1/staff/service-changes/${sc.id}/approve`, { token: inside.agent }), 'approve');
  const valve = (await ok(call('GET', '/api/v1/staff/valve-orders', { token: inside.station }), 'valve orders')).items.find(
    (v: any) => v.applicationId === sc.id,
  );
  const title = await ok(call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'personal', name: '周先生' } }), 'title');
  const invoice = await ok(call('POST', '/api/v1/invoices', { token, body: { orderId: order.id, titleId: title.id } }), 'invoice');
  const repair = await ok(
    call('POST', '/api/v1/repairs', { token, body: { accountId: bound.accountId, category: 'low_temp', description: '卧室只有15度' } }),
    'repair',
  );
  // the ticket goes through to a callback (dispatch, contact, arrive, side, resolve)
  const worker = (await ok(call('GET', `/api/v1/staff/repairs/${repair.id}/assignees`, { token: inside.dispatcher }), 'assignees')).items.find(
    (s: any) => s.name === 'worker测试',
  );
  await ok(call('POST', `/api/v1/staff/repairs/${repair.id}/assign`, { token: inside.dispatcher, body: { staffId: worker.id } }), 'assign');
  const workerToken = inside.worker;
  for (const step of ['contact', 'arrive']) await ok(call('POST', `/api/v1/staff/repairs/${repair.id}/${step}`, { token: workerToken }), step);
  await ok(call('POST', `/api/v1/staff/repairs/${repair.id}/side`, { token: workerToken, body: { side: 'company' } }), 'side');
  await ok(call('POST', `/api/v1/staff/repairs/${repair.id}/resolve`, { token: workerToken, body: { notes: '已排气，恢复正常' } }), 'resolve');
  const callback = await t.ds.getRepository(RepairCallback).findOneBy({ ticketId: repair.id });
  const measurement = await ok(
    call('POST', '/api/v1/measurements', { token, body: { accountId: bound.accountId, scheduledAt: SLOT, repairId: repair.id } }),
    'measurement',
  );
  const canned = await ok(
    call('POST', '/api/v1/staff/canned-replies', { token: inside.admin, body: { category: 'other', title: '问候', body: '{住户}您好' } }),
    'canned',
  );

  const complaint = await ok(call('POST', '/api/v1/complaints', { token, body: { accountId: bound.accountId, content: '暖气一直不热没人管' } }), 'complaint');
  const task = await t.ds.getRepository(WatchTask).save({
    kind: 'remeasure' as const,
    dedupeKey: `remeasure:${repair.id}:0`,
    accountId: bound.accountId,
    areaId: areaA,
    repairTicketId: repair.id,
    reason: '复测',
    dueAt: new Date(),
    status: 'open' as const,
    doneAt: null,
    doneBy: null,
    readingDeciC: null,
    notes: null,
  });

  // resident I in area B
  const h = demoHouseholds().find((x) => x.building === 3 && x.status === 'active' && x.use === 'residential')!;
  intruder = await t.loginResident('intr-' + crypto.randomUUID().slice(0, 8));
  const other = await ok(call('POST', '/api/v1/accounts/bind', { token: intruder, body: { accountNo: h.accountNo, ownerName: h.ownerName } }), 'intruder bind');
  const otherGroups = await ok(call('GET', '/api/v1/groups', { token: intruder }), 'intruder groups');
  await ok(call('POST', '/api/v1/invoice-titles', { token: intruder, body: { kind: 'personal', name: '李女士' } }), 'intruder title');

  fx = {
    accountId: bound.accountId,
    accountNo: o.accountNo,
    buildingId: bound.buildingId,
    areaA,
    residentId: me.id,
    billId: bill.id,
    orderId: order.id,
    titleId: title.id,
    invoiceId: invoice.id,
    repairId: repair.id,
    callbackId: callback?.id as number,
    measurementId: measurement.id,
    groupId: groups.items[0].id,
    messageId: message.id,
    messageText,
    serviceChangeId: sc.id,
    valveOrderId: valve?.id,
    cannedId: canned.id,
    complaintId: complaint.id,
    watchTaskId: task.id,
    otherAccountId: other.accountId,
    otherGroupId: otherGroups.items[0].id,
  };
}, 180_000);
afterAll(async () => t?.close());

/** How to call a route with O's ids: path values, body, query; `list` = a filter that may answer without the object. */
interface Call {
  params?: Record<string, number | string>;
  body?: unknown;
  query?: string;
  list?: boolean;
  /** the answer is a workbook: its cells are searched for the secrets */
  xlsx?: boolean;
}

/** Every cell of an XLSX answer as text. */
async function workbookText(bytes: ArrayBuffer): Promise<string> {
  const ExcelJS = (await import('exceljs')).default;
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as any);
  const out: string[] = [];
  wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((c) => out.push(String(c.value ?? '')))));
  return out.join('\n');
}
type Fixture = (f: Fixtures) => Call | Call[];

const FIXTURES: Record<string, Fixture> = {
  // ---- residents -----------------------------------------------------------------------------
  'DELETE /accounts/:accountId/binding': (f) => ({ params: { accountId: f.accountId } }),
  'GET /accounts/:accountId': (f) => ({ params: { accountId: f.accountId } }),
  'GET /bills/:billId': (f) => ({ params: { billId: f.billId } }),
  'GET /groups/:id/messages': (f) => ({ params: { id: f.groupId } }),
  'POST /groups/:id/messages': (f) => [
    { params: { id: f.groupId }, body: { text: '你好' } },
    { params: { id: f.otherGroupId }, body: { text: '引用', quoteId: f.messageId } },
  ],
  'POST /groups/:id/messages/:messageId/report': (f) => [
    { params: { id: f.groupId, messageId: f.messageId }, body: { reason: '广告' } },
    { params: { id: f.otherGroupId, messageId: f.messageId }, body: { reason: '广告' } },
  ],
  'POST /groups/:id/read': (f) => ({ params: { id: f.groupId }, body: { upTo: f.messageId } }),
  'DELETE /invoice-titles/:id': (f) => ({ params: { id: f.titleId } }),
  'PUT /invoice-titles/:id': (f) => ({ params: { id: f.titleId }, body: { kind: 'personal', name: '张三' } }),
  'POST /invoices': (f) => [{ body: { orderId: f.orderId, title: { kind: 'personal', name: '李四' } } }, { body: { orderId: f.orderId, titleId: f.titleId } }],
  'GET /invoices/:id': (f) => ({ params: { id: f.invoiceId } }),
  'POST /invoices/:id/title': (f) => ({ params: { id: f.invoiceId }, body: { title: { kind: 'personal', name: '王五' } } }),
  'POST /invoices/:id/email': (f) => ({ params: { id: f.invoiceId }, body: { email: 'someone@example.com' } }),
  'POST /measurements': (f) => [
    { body: { accountId: f.accountId, scheduledAt: SLOT } },
    { body: { accountId: f.otherAccountId, scheduledAt: SLOT, repairId: f.repairId } },
  ],
  'POST /measurements/:id/cancel': (f) => ({ params: { id: f.measurementId } }),
  'POST /measurements/:id/reschedule': (f) => ({ params: { id: f.measurementId }, body: { scheduledAt: SLOT } }),
  'POST /complaints': (f) => ({ body: { accountId: f.accountId, content: '暖气一直不热没人管' } }),
  'GET /complaints/:id': (f) => ({ params: { id: f.complaintId } }),
  'POST /payments': (f) => ({ body: { billId: f.billId } }),
  'POST /payments/pay-all': (f) => ({ body: { accountId: f.accountId, billIds: [f.billId] } }),
  'GET /payments/:orderId': (f) => ({ params: { orderId: f.orderId } }),
  'POST /payments/:orderId/confirm': (f) => ({ params: { orderId: f.orderId } }),
  'POST /repairs': (f) => ({ body: { accountId: f.accountId, category: 'low_temp', description: '不热不热不热' } }),
  'GET /repairs/:id': (f) => ({ params: { id: f.repairId } }),
  'POST /repairs/:id/cancel': (f) => ({ params: { id: f.repairId } }),
  'POST /repairs/:id/consent': (f) => ({ params: { id: f.repairId }, body: { accept: true } }),
  'POST /repairs/:id/rating': (f) => ({ params: { id: f.repairId }, body: { rating: 1 } }),
  'POST /repairs/:id/urge': (f) => ({ params: { id: f.repairId } }),
  'POST /repairs/:id/slot': (f) => ({
    params: { id: f.repairId },
    // tomorrow 10:00-12:00 China time: a valid slot, so only whose ticket it is decides
    body: {
      slotStart: new Date(chinaDayStart(new Date(), 1).getTime() + 10 * 3600_000).toISOString(),
      slotEnd: new Date(chinaDayStart(new Date(), 1).getTime() + 12 * 3600_000).toISOString(),
    },
  }),
  'POST /service-changes': (f) => ({ body: { accountId: f.accountId, season, kind: 'resume', documents: [] } }),
  'GET /service-changes/:id': (f) => ({ params: { id: f.serviceChangeId } }),
  'POST /service-changes/:id/cancel': (f) => ({ params: { id: f.serviceChangeId } }),
  'POST /service-changes/:id/resubmit': (f) => ({ params: { id: f.serviceChangeId }, body: { documents: [] } }),
  'GET /service-changes/preview': (f) => ({ query: `accountId=${f.accountId}&season=${season}&kind=stop` }),

  // ---- staff (out of area) --------------------------------------------------------------------
  'POST /staff/announcements': (f) => [
    { body: { scope: 'building', targetId: f.buildingId, type: 'notice', title: '通知', body: '明天检修' } },
    { body: { scope: 'area', targetId: f.areaA, type: 'notice', title: '通知', body: '明天检修' } },
  ],
  'POST /staff/announcements/preview': (f) => [
    { body: { scope: 'building', targetId: f.buildingId, type: 'notice', title: '通知', body: '明天检修' } },
    { body: { scope: 'area', targetId: f.areaA, type: 'notice', title: '通知', body: '明天检修' } },
  ],
  'POST /staff/canned-replies/:id/render': (f) => [
    { params: { id: f.cannedId }, body: { messageId: f.messageId } },
    { params: { id: f.cannedId }, body: { groupId: f.groupId } },
  ],
  'POST /staff/complaints': (f) => ({ body: { accountId: f.accountId, source: 'phone', content: '暖气一直不热没人管' } }),
  'GET /staff/complaints/:id': (f) => ({ params: { id: f.complaintId } }),
  'POST /staff/complaints/:id/take': (f) => ({ params: { id: f.complaintId } }),
  'POST /staff/complaints/:id/extend': (f) => ({ params: { id: f.complaintId }, body: { note: '住户电话同意延长' } }),
  'POST /staff/complaints/:id/resolve': (f) => ({ params: { id: f.complaintId }, body: { resolution: '已排气恢复正常' } }),
  'POST /staff/complaints/:id/callback': (f) => ({ params: { id: f.complaintId }, body: { outcome: 'satisfied' } }),
  'POST /staff/watch/tasks/:id/done': (f) => ({ params: { id: f.watchTaskId }, body: { readingC: 21 } }),
  'GET /staff/groups/:id/messages': (f) => ({ params: { id: f.groupId } }),
  'POST /staff/groups/:id/messages': (f) => ({ params: { id: f.groupId }, body: { text: '您好' } }),
  'POST /staff/groups/:id/mute': (f) => ({ params: { id: f.groupId }, body: { residentId: f.residentId, minutes: 10 } }),
  'POST /staff/groups/:id/unmute': (f) => ({ params: { id: f.groupId }, body: { residentId: f.residentId } }),
  'POST /staff/groups/:id/read': (f) => ({ params: { id: f.groupId }, body: { upTo: f.messageId } }),
  'GET /staff/inbox': (f) => ({ query: `view=all&groupId=${f.groupId}`, list: true }),
  'POST /staff/inbox/:id/claim': (f) => ({ params: { id: f.messageId } }),
  'POST /staff/inbox/:id/release': (f) => ({ params: { id: f.messageId } }),
  'GET /staff/inbox/:id/context': (f) => ({ params: { id: f.messageId } }),
  'POST /staff/inbox/:id/repair': (f) => ({ params: { id: f.messageId }, body: { category: 'low_temp', accountId: f.accountId } }),
  'POST /staff/measurements': (f) => [
    { body: { accountId: f.accountId, scheduledAt: SLOT } },
    { body: { accountId: f.otherAccountId, scheduledAt: SLOT, repairId: f.repairId } },
  ],
  'GET /staff/measurements/:id/orders': (f) => ({ params: { id: f.measurementId } }),
  'POST /staff/measurements/:id/readings': (f) => ({ params: { id: f.measurementId }, body: { readings: [{ room: '主卧', readingC: 17, checks }] } }),
  'POST /staff/measurements/:id/refund': (f) => ({ params: { id: f.measurementId }, body: { orderId: f.orderId } }),
  'POST /staff/measurements/:id/ruling': (f) => ({ params: { id: f.measurementId }, body: { note: '测试裁定' } }),
  'POST /staff/messages/:id/hide': (f) => ({ params: { id: f.messageId }, body: { reason: '测试' } }),
  'POST /staff/messages/:id/pin': (f) => ({ params: { id: f.messageId }, body: { pinned: true } }),
  'GET /staff/repairs/:id': (f) => ({ params: { id: f.repairId } }),
  'GET /staff/repairs/:id/assignees': (f) => ({ params: { id: f.repairId } }),
  'POST /staff/repairs/:id/assign': (f) => ({ params: { id: f.repairId }, body: { staffId: 1 } }),
  'POST /staff/repairs/:id/arrive': (f) => ({ params: { id: f.repairId } }),
  'POST /staff/repairs/:id/contact': (f) => ({ params: { id: f.repairId } }),
  'POST /staff/repairs/:id/grab': (f) => ({ params: { id: f.repairId } }),
  'POST /staff/repairs/:id/report': (f) => ({ params: { id: f.repairId }, body: { report: '已处理完毕' } }),
  'POST /staff/repairs/:id/resolve': (f) => ({ params: { id: f.repairId }, body: { notes: '已处理完毕' } }),
  'POST /staff/repairs/:id/side': (f) => ({ params: { id: f.repairId }, body: { side: 'company' } }),
  'POST /staff/repairs/callbacks/:id': (f) => ({ params: { id: f.callbackId }, body: { outcome: 'satisfied' } }),
  'GET /staff/repairs/report': (f) => ({ query: `areaId=${f.areaA}`, list: true }),
  'GET /staff/residents/:id/notes': (f) => ({ params: { id: f.residentId } }),
  'POST /staff/residents/:id/notes': (f) => ({ params: { id: f.residentId }, body: { body: '备注' } }),
  'GET /staff/service-changes': (f) => [
    { query: `areaId=${f.areaA}`, list: true },
    { query: `buildingId=${f.buildingId}`, list: true },
  ],
  'POST /staff/service-changes': (f) => ({ body: { accountId: f.accountId, season, kind: 'resume', documents: [] } }),
  'GET /staff/service-changes/:id': (f) => ({ params: { id: f.serviceChangeId } }),
  'POST /staff/service-changes/:id/approve': (f) => ({ params: { id: f.serviceChangeId } }),
  'POST /staff/service-changes/:id/cancel': (f) => ({ params: { id: f.serviceChangeId } }),
  'POST /staff/service-changes/:id/reject': (f) => ({ params: { id: f.serviceChangeId }, body: { problems: [{ message: '照片不清楚' }] } }),
  'POST /staff/service-changes/:id/review': (f) => ({ params: { id: f.serviceChangeId } }),
  'GET /staff/service-changes/export': (f) => [
    { query: `areaId=${f.areaA}`, list: true, xlsx: true },
    { query: `buildingId=${f.buildingId}`, list: true, xlsx: true },
  ],
  'GET /staff/service-changes/preview': (f) => ({ query: `accountId=${f.accountId}&season=${season}&kind=stop` }),
  'POST /staff/valve-orders/:id/done': (f) => ({ params: { id: f.valveOrderId }, body: { photoUrl: 'up_' + '0'.repeat(32) } }),
};

/** Routes that take an id but have no owner to protect, with the reason. */
const EXEMPT: Record<string, string> = {
  'GET /invoice-files/:id': 'public by design: the signed, expiring link is the capability (checked in invoices.test)',
  'POST /invoice-titles': 'taxId is a taxpayer number, not an object id',
  'POST /staff/repairs/notices/read': 'upToId marks the caller’s own notices read up to an id; others’ notices are never touched',
  'GET /staff/repairs/report/export': 'the same query and area scope as GET /staff/repairs/report (XLSX)',
  // finance-only money work on the company's one WeChat Pay merchant account, not area business
  'POST /staff/invoices/:id/retry': 'finance only: retrying the provider call for an invoice, company-wide',
  'POST /staff/payments/:orderId/refunds': 'finance only: refunds against the company ledger, company-wide (reason and ruling recorded)',
  'POST /staff/reconciliation/days/:date/discrepancies/:key/resolve': 'finance only: the daily WeChat trade bill is company-wide',
};

/** Admins have every area by design, never "out of area". */
const COMPANY_WIDE: readonly StaffRole[] = ['admin'];

/** Does the route take an object id anywhere? */
function idsOf(route: RegisteredRoute): string[] {
  const names = paramNames(route.path).filter((n) => n !== 'date' && n !== 'code');
  const body = Object.keys(shapeOf(route.body)).filter((k) => /Id$/.test(k) && k !== 'taxId' && k !== 'confirmTaxId');
  const query = Object.keys(shapeOf(route.query)).filter((k) => /Id$/.test(k));
  return [...names, ...body.map((k) => 'body.' + k), ...query.map((k) => 'query.' + k)];
}

/** Who must be refused on this route: the second resident, and out-of-area staff of each allowed role. */
function intruders(route: RegisteredRoute): { who: string; token: string }[] {
  if (route.auth === 'public') return [];
  const out: { who: string; token: string }[] = [];
  if (route.auth.includes('resident')) out.push({ who: 'second resident', token: intruder });
  for (const role of route.auth)
    if (role !== 'resident' && !COMPANY_WIDE.includes(role as StaffRole)) out.push({ who: `${role} of area B`, token: outside[role as StaffRole] });
  return out;
}

describe('object ownership (route table × foreign ids)', () => {
  it('every route that takes an id has a fixture or a stated exemption', () => {
    const missing = routeTable()
      .filter((r) => idsOf(r).length && intruders(r).length && !FIXTURES[routeName(r)] && !EXEMPT[routeName(r)])
      .map((r) => `${routeName(r)} [${idsOf(r).join(', ')}]`);
    expect(missing).toEqual([]);
    expect(Object.keys(FIXTURES).filter((k) => !routeTable().some((r) => routeName(r) === k))).toEqual([]);
  });

  it('a second resident and out-of-area staff are refused on every one of them', async () => {
    expect(fx.callbackId, 'callback fixture').toBeTruthy();
    expect(fx.valveOrderId, 'valve order fixture').toBeTruthy();
    const leaks: string[] = [];
    let checked = 0;
    const secrets = [fx.accountNo, fx.messageText];
    const routes = routeTable().filter((r) => idsOf(r).length && FIXTURES[routeName(r)]);
    for (const route of routes) {
      const calls = ([] as Call[]).concat(FIXTURES[routeName(route)]!(fx));
      for (const c of calls) {
        for (const { who, token } of intruders(route)) {
          const url = concretePath(route, c.params) + (c.query ? `?${c.query}` : '');
          let res: { status: number; body: any };
          let text: string;
          if (c.xlsx) {
            const r = await fetch(t.url + url, { headers: { Authorization: `Bearer ${token}` } });
            const bytes = await r.arrayBuffer();
            res = { status: r.status, body: null };
            text = r.status === 200 ? await workbookText(bytes) : Buffer.from(bytes).toString('utf8');
          } else {
            res = await t.call(route.method.toUpperCase(), url, {
              token,
              ...(c.body !== undefined ? { body: c.body } : route.method === 'get' ? {} : { body: {} }),
            });
            text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');
          }
          checked++;
          const refused = res.status === 404 || res.status === 403;
          const leaked = secrets.some((s) => text.includes(s));
          if (c.list ? leaked || res.status >= 500 : !refused || leaked) {
            leaks.push(`${routeName(route)} ${url} ${c.body ? JSON.stringify(c.body) : ''} as ${who}: ${res.status} ${text.slice(0, 160)}`);
          }
        }
      }
    }
    console.info(`ownership: ${checked} refusals checked over ${routes.length} routes`);
    expect(leaks).toEqual([]);
  }, 120_000);

  it('the fixtures are the owner’s: O and area-A staff do get them (so the refusals above are about ownership)', async () => {
    for (const path of [
      `/api/v1/repairs/${fx.repairId}`,
      `/api/v1/payments/${fx.orderId}`,
      `/api/v1/invoices/${fx.invoiceId}`,
      `/api/v1/service-changes/${fx.serviceChangeId}`,
      `/api/v1/bills/${fx.billId}`,
    ]) {
      expect((await t.call('GET', path, { token: ownerToken })).status, path).toBe(200);
    }
    expect((await t.call('GET', `/api/v1/staff/repairs/${fx.repairId}`, { token: inside.agent })).status).toBe(200);
    expect((await t.call('GET', `/api/v1/staff/service-changes/${fx.serviceChangeId}`, { token: inside.worker })).status).toBe(200);
    expect((await t.call('GET', `/api/v1/staff/groups/${fx.groupId}/messages`, { token: inside.butler })).status).toBe(200);
    expect((await t.call('GET', `/api/v1/staff/residents/${fx.residentId}/notes`, { token: inside.agent })).status).toBe(200);
    // the list checks look for the secrets: area-A staff do see them there
    const inbox = await t.call('GET', `/api/v1/staff/inbox?view=all&groupId=${fx.groupId}`, { token: inside.agent });
    expect(JSON.stringify(inbox.body)).toContain(fx.messageText);
    const list = await t.call('GET', `/api/v1/staff/service-changes?areaId=${fx.areaA}`, { token: inside.agent });
    expect(JSON.stringify(list.body)).toContain(fx.accountNo);
    const xlsx = await fetch(`${t.url}/api/v1/staff/service-changes/export?areaId=${fx.areaA}`, { headers: { Authorization: `Bearer ${inside.agent}` } });
    expect(await workbookText(await xlsx.arrayBuffer())).toContain(fx.accountNo);
  });
});
