/**
 * The seeds' repair clocks on the real BFF (issue 16 item 8, issue 17 items 6 and 8):
 * - Heihe 004 (hotline 24 h) and Zibo 001 (quiet hours only for callbacks): the contact clock runs 24 h;
 * - Harbin 003: the order reaches a worker within 10 min, and workers grab orders (grab pool with a fallback);
 * - Changchun 000: a leak on site within 25 min; Heihe 004: flooding is an emergency; per-category minutes are settings;
 * - overdue tickets stop promising the past and offer 催单 (once per 30 min) and the hotline;
 * - Zibo 001: the appointment may be changed once, at least 1 h ahead;
 * - callbacks: 未接通 schedules another try; a reopened ticket's callback leaves the list.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { formatChinaTime } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';
import { DEMO } from '../../demo/seed';
import { Staff } from '../identity/entities';
import { RepairCallback, RepairStaffNotice, RepairTicket } from './entities';

const china = (s: string) => new Date(s + '+08:00');
const fmt = (iso: string | null) => (iso ? formatChinaTime(iso) : null);

describe('repair clocks per the seeds', () => {
  let now = china('2026-11-25T19:50:00');
  const t = testAppForFile({ seedDemo: true, clock: () => now });
  const tick = (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000));
  let admin: string;
  let worker1: string;
  let agent1: string;
  let dispatcher: string;

  beforeAll(async () => {
    admin = await t.loginStaff('admin');
    worker1 = await t.loginStaff('worker1');
    agent1 = await t.loginStaff('agent1');
    dispatcher = await t.loginStaff('dispatcher1');
  });

  async function book(r: { token: string; accountId: number }, body: Record<string, unknown> = {}) {
    const res = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: { accountId: r.accountId, category: 'no_heat', description: '卧室暖气片上热下凉', ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }
  async function setRepairs(patch: (cur: any) => any) {
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    const saved = await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: { ...cur, rules: patch(cur.rules) } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    return saved.body;
  }
  const staffId = async (username: string) => (await t.ds.getRepository(Staff).findOneByOrFail({ username })).id;
  const view = async (r: { token: string }, id: number) => (await t.call('GET', `/api/v1/repairs/${id}`, { token: r.token })).body;

  it('Heihe 004 / Zibo 001: a 19:50 request is promised contact by 20:20 (24 h hotline), with every deadline shown', async () => {
    now = china('2026-11-25T19:50:00');
    const r = await t.residentWith(DEMO.accounts[0]!);
    const ticket = await book(r);
    expect(ticket.promise).toBe('预计 20:20 前联系您');
    // Harbin 003: dispatched within 10 min (auto-assigned at once); Zibo 001: on site within 30 min
    expect(ticket.deadlines.map((d: any) => [d.kind, d.label, fmt(d.dueAt), d.state])).toEqual([
      ['dispatch', '派单', '2026-11-25 20:00', 'met'],
      ['contact', '联系您', '2026-11-25 20:20', 'pending'],
      ['on_site', '上门', '2026-11-25 20:20', 'pending'],
      ['done', '完工', '2026-11-27 19:50', 'pending'],
    ]);
    expect(ticket.overdue).toBe(false);
    expect(ticket.urge.allowed).toBe(false);
  });

  it('Changchun 000: a leak on site within 25 min; Heihe 004: indoor flooding is an emergency; the minutes per category are settings', async () => {
    now = china('2026-11-25T22:00:00');
    const r = await t.residentWith(DEMO.accounts[1]!);
    const leak = await book(r, { category: 'leak', description: '厨房暖气管漏水' });
    expect(leak.emergency).toBe(true);
    expect(fmt(leak.onSiteDueAt)).toBe('2026-11-25 22:25');
    const options = (await t.call('GET', '/api/v1/repairs/options', { token: r.token })).body;
    expect(options.categories.filter((c: any) => c.emergency).map((c: any) => c.value)).toEqual(['leak', 'flooding']);
    // the company makes flooding 45 min, valves an emergency of 20 min, and routine dispatch 5 min
    await setRepairs((rules) => ({
      ...rules,
      repairs: {
        ...rules.repairs,
        categories: rules.repairs.categories.map((c: any) =>
          c.category === 'flooding'
            ? { ...c, onSiteMinutes: 45 }
            : c.category === 'valve'
              ? { ...c, emergency: true, onSiteMinutes: 20 }
              : c.emergency
                ? c
                : { ...c, dispatchMinutes: 5 },
        ),
      },
    }));
    const flood = await book(r, { category: 'flooding', description: '卫生间地面跑水' });
    expect(flood.emergency).toBe(true);
    expect(fmt(flood.onSiteDueAt)).toBe('2026-11-25 22:45');
    const valve = await book(r, { category: 'valve', description: '阀门拧不动还滴水' });
    expect(valve.emergency).toBe(true);
    expect(fmt(valve.onSiteDueAt)).toBe('2026-11-25 22:20');
    const routine = await book(r, { category: 'other', description: '暖气片有异响' });
    expect(fmt(routine.dispatchDueAt)).toBe('2026-11-25 22:05');
    // an impossible minute count is refused at its field, in Chinese
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    const bad = await t.call('PUT', '/api/v1/admin/settings', {
      token: admin,
      body: { ...cur, rules: { ...cur.rules, repairs: { ...cur.rules.repairs, categories: [{ ...cur.rules.repairs.categories[0], onSiteMinutes: 0 }] } } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/rules\.repairs\.categories\.0\.onSiteMinutes/);
  });

  it('Harbin 003: in grab mode workers grab orders; an order nobody grabs is auto-assigned after the timeout, and a missed 10-minute dispatch is overdue', async () => {
    now = china('2026-11-26T09:00:00');
    await setRepairs((rules) => ({ ...rules, repairs: { ...rules.repairs, dispatchMode: 'grab', grabTimeoutMinutes: 8 } }));
    const r = await t.residentWith(DEMO.accounts[2]!);
    const a = await book(r, { category: 'no_heat', description: '客厅暖气不热' });
    expect(a.status).toBe('pending');
    expect(a.assigneeName).toBeNull();
    await t.services.outbox.drain();
    // the area's butlers and workers are offered it
    const offered = await t.ds.getRepository(RepairStaffNotice).find({ where: { ticketId: a.id, kind: 'pool' } });
    expect(offered.map((n) => n.staffId).sort()).toEqual([await staffId('agent1'), await staffId('worker1')].sort());
    const pool = await t.call('GET', '/api/v1/staff/repairs?pool=1', { token: worker1 });
    expect(pool.body.items.map((x: any) => x.id)).toContain(a.id);
    const grabbed = await t.call('POST', `/api/v1/staff/repairs/${a.id}/grab`, { token: worker1 });
    expect(grabbed.body).toMatchObject({ status: 'assigned', assigneeName: '钱师傅' });

    // an emergency is not offered: the area's emergency crew has it at once (Heihe 004: on site in 1 h)
    const leak = await book(r, { category: 'leak', description: '卫生间暖气管漏水' });
    expect(leak).toMatchObject({ emergency: true, status: 'assigned', assigneeName: '钱师傅' });
    await t.services.outbox.drain();
    expect(await t.ds.getRepository(RepairStaffNotice).count({ where: { ticketId: leak.id, kind: 'pool' } })).toBe(0);
    expect((await t.call('GET', '/api/v1/staff/repairs?pool=1', { token: worker1 })).body.items.map((x: any) => x.id)).not.toContain(leak.id);

    // a routine order (an earlier test made valves an emergency)
    const b = await book(r, { category: 'other', description: '暖气片放不出气' });
    tick(7);
    expect((await t.services.repairs.dispatchUngrabbed(now)).assigned).toBe(0);
    tick(1);
    expect((await t.services.repairs.dispatchUngrabbed(now)).assigned).toBe(1);
    const bv = await view(r, b.id);
    expect(bv.status).toBe('assigned');
    expect(bv.timeline.at(-1).reason).toBe('8分钟内无人抢单，系统自动派单');

    // nobody grabs and the fallback did not run: the 10-minute dispatch deadline is missed (Harbin 003)
    const c = await book(r, { category: 'no_heat', description: '暖气片不热' });
    tick(11);
    const staffView = (await t.call('GET', `/api/v1/staff/repairs/${c.id}`, { token: dispatcher })).body;
    expect(staffView.overdue).toBe(true);
    const overdueList = await t.call('GET', '/api/v1/staff/repairs?overdue=1', { token: dispatcher });
    expect(overdueList.body.items.map((x: any) => x.id)).toContain(c.id);
    await t.services.repairs.escalateOverdue(now);
    expect((await t.call('GET', `/api/v1/staff/repairs/${c.id}`, { token: dispatcher })).body.timeline.at(-1).reason).toContain('派单');
    expect((await view(r, c.id)).deadlines[0]).toMatchObject({ kind: 'dispatch', state: 'overdue' });
    await setRepairs((rules) => ({ ...rules, repairs: { ...rules.repairs, dispatchMode: 'auto' } }));
  });

  it('issue 17 item 6: past a deadline the page stops promising it, offers 催单 once per 30 min and hides the internal escalation line', async () => {
    now = china('2026-11-26T13:00:00');
    const r = await t.residentWith(DEMO.accounts[3]!);
    const ticket = await book(r, { category: 'leak', description: '卧室暖气管漏水' });
    expect(ticket.promise).toBe('预计 13:05 前联系您');
    const early = await t.call('POST', `/api/v1/repairs/${ticket.id}/urge`, { token: r.token });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('REPAIR_URGE_NOT_DUE');

    tick(40); // 13:40: contact (13:05) and on-site (13:25) missed
    await t.services.repairs.escalateOverdue(now);
    const late = await view(r, ticket.id);
    expect(late.overdue).toBe(true);
    expect(late.promise).toBeNull();
    expect(late.deadlines.filter((d: any) => d.state === 'overdue').map((d: any) => d.kind)).toEqual(['contact', 'on_site']);
    expect(late.urge).toMatchObject({ allowed: true, count: 0 });
    // the escalation to the supervisor is on the staff timeline only
    expect(late.timeline.map((x: any) => x.reason).join()).not.toContain('超时升级');
    const staffTimeline = (await t.call('GET', `/api/v1/staff/repairs/${ticket.id}`, { token: dispatcher })).body.timeline;
    expect(staffTimeline.map((x: any) => x.reason).join()).toContain('超时升级');

    const urged = await t.call('POST', `/api/v1/repairs/${ticket.id}/urge`, { token: r.token });
    expect(urged.status, JSON.stringify(urged.body)).toBe(200);
    expect(urged.body.urge).toMatchObject({ allowed: false, count: 1 });
    expect(fmt(urged.body.urge.nextAt)).toBe('2026-11-26 14:10');
    expect(urged.body.timeline.at(-1)).toMatchObject({ label: '住户催单', reason: '住户催单' });
    await t.services.outbox.drain();
    const told = await t.ds.getRepository(RepairStaffNotice).find({ where: { ticketId: ticket.id, kind: 'urge' } });
    expect(told.map((n) => n.staffId).sort()).toEqual([await staffId('worker1'), await staffId('dispatcher1')].sort());

    tick(10);
    const again = await t.call('POST', `/api/v1/repairs/${ticket.id}/urge`, { token: r.token });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('REPAIR_URGE_TOO_SOON');
    expect(again.body.error.message).toContain('20分钟后');
    tick(20);
    expect((await t.call('POST', `/api/v1/repairs/${ticket.id}/urge`, { token: r.token })).body.urge.count).toBe(2);
    // once someone calls and arrives, nothing is overdue: no more 催单
    await t.call('POST', `/api/v1/staff/repairs/${ticket.id}/arrive`, { token: worker1 });
    const onSite = await view(r, ticket.id);
    expect(onSite.overdue).toBe(false);
    expect(onSite.deadlines.find((d: any) => d.kind === 'on_site')).toMatchObject({ state: 'late' });
  });

  it('Zibo 001: the resident may change the appointment once, at least 1 h before it', async () => {
    now = china('2026-11-26T08:30:00');
    const r = await t.residentWith(DEMO.accounts[4]!);
    const ticket = await book(r, { slotStart: china('2026-11-26T14:00:00').toISOString(), slotEnd: china('2026-11-26T16:00:00').toISOString() });
    expect(fmt(ticket.onSiteDueAt)).toBe('2026-11-26 16:00');
    expect(ticket.reschedule).toMatchObject({ allowed: true, left: 1, noticeMinutes: 60 });
    const slot = (s: string, e: string) => ({ slotStart: china(s).toISOString(), slotEnd: china(e).toISOString() });
    // a slot inside quiet hours is refused at its field
    const night = await t.call('POST', `/api/v1/repairs/${ticket.id}/slot`, { token: r.token, body: slot('2026-11-26T20:00:00', '2026-11-26T21:00:00') });
    expect(night.body.error.code).toBe('REPAIR_SLOT_INVALID');
    const moved = await t.call('POST', `/api/v1/repairs/${ticket.id}/slot`, { token: r.token, body: slot('2026-11-27T10:00:00', '2026-11-27T12:00:00') });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(fmt(moved.body.onSiteDueAt)).toBe('2026-11-27 12:00');
    expect(moved.body.reschedule).toMatchObject({ allowed: false, left: 0 });
    expect(moved.body.timeline.at(-1)).toMatchObject({ label: '修改预约', reason: '上门时间改为 2026-11-27 10:00-12:00' });
    const twice = await t.call('POST', `/api/v1/repairs/${ticket.id}/slot`, { token: r.token, body: slot('2026-11-27T14:00:00', '2026-11-27T16:00:00') });
    expect(twice.body.error.code).toBe('REPAIR_RESCHEDULE_USED');

    // less than an hour before the booked visit: refused
    const soon = await book(r, { slotStart: china('2026-11-26T09:00:00').toISOString(), slotEnd: china('2026-11-26T10:00:00').toISOString() });
    expect(soon.reschedule.allowed).toBe(false);
    const tooLate = await t.call('POST', `/api/v1/repairs/${soon.id}/slot`, { token: r.token, body: slot('2026-11-26T14:00:00', '2026-11-26T16:00:00') });
    expect(tooLate.body.error.code).toBe('REPAIR_RESCHEDULE_TOO_LATE');
    expect(tooLate.body.error.message).toContain('60分钟');
  });

  it('issue 17 item 8: 未接通 schedules another try instead of closing; a reopened ticket’s callback leaves the list', async () => {
    now = china('2026-11-26T10:00:00');
    const r = await t.residentWith(DEMO.accounts[0]!);
    const resolve = async () => {
      const { id } = await book(r, { category: 'leak', description: '客厅暖气片跑水' });
      for (const [p, b] of [['arrive'], ['side', { side: 'company' }], ['resolve', { notes: '紧固接口' }]] as const)
        expect((await t.call('POST', `/api/v1/staff/repairs/${id}/${p}`, { token: worker1, body: b })).status).toBe(200);
      return id as number;
    };
    const listed = async () => (await t.call('GET', '/api/v1/staff/repairs/callbacks', { token: agent1 })).body.items as any[];
    const id = await resolve();
    const task = (await listed()).find((x) => x.ticketId === id);
    expect(task.attempts).toBe(0);
    const miss = async () =>
      t.call('POST', `/api/v1/staff/repairs/callbacks/${task.id}`, { token: agent1, body: { outcome: 'unreachable', notes: '无人接听' } });
    const first = await miss();
    expect(first.status).toBe(200);
    expect(fmt(first.body.retryAt)).toBe('2026-11-26 12:00');
    expect((await listed()).map((x) => x.ticketId)).not.toContain(id);
    tick(120);
    expect((await listed()).find((x) => x.ticketId === id)).toMatchObject({ attempts: 1 });
    // a retry that would fall into quiet hours waits for 08:00
    now = china('2026-11-26T19:00:00');
    expect(fmt((await miss()).body.retryAt)).toBe('2026-11-27 08:00');
    now = china('2026-11-27T08:00:00');
    const third = await miss();
    expect(third.body.retryAt).toBeUndefined();
    expect(await t.ds.getRepository(RepairCallback).findOneByOrFail({ id: task.id })).toMatchObject({ status: 'done', outcome: 'unreachable', attempts: 3 });

    // the resident rates 1 star: the ticket reopens and its callback is no longer owed
    const id2 = await resolve();
    expect((await listed()).map((x) => x.ticketId)).toContain(id2);
    expect((await t.call('POST', `/api/v1/repairs/${id2}/rating`, { token: r.token, body: { rating: 1, comment: '还在漏' } })).body.status).toBe('reopened');
    expect((await listed()).map((x) => x.ticketId)).not.toContain(id2);
    expect((await t.ds.getRepository(RepairCallback).findOneByOrFail({ ticketId: id2 })).status).toBe('void');
    // reopened: a fresh dispatch clock for the dispatcher (Harbin 003's 10 min)
    const row = await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: id2 });
    expect(row.dispatchDueAt!.getTime()).toBe(now.getTime() + 10 * 60_000);
  });
});
