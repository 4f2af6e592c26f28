/**
 * Repairs end to end on the real BFF (SQLite, or MariaDB with TEST_DATABASE_URL): booking,
 * dispatch, grab race, consent, closing loop, escalation, access; plus the pure SLA clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CompanyRules, callbackSchedule, contactPromise, formatChinaTime, inQuietHours, isEmergency, repairDeadlines, slotProblem } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';
import { DEMO, demoHouseholds, demoSeasons } from '../../demo/seed';
import { RepairCallback, RepairStaffNotice, RepairTicket } from './entities';
import { Staff } from '../identity/entities';

const rules = CompanyRules.parse({});
const china = (s: string) => new Date(s + '+08:00');
const fmt = (d: Date | null) => (d ? formatChinaTime(d) : null);

describe('SLA clock (China time)', () => {
  it('every clock runs 24 h (Heihe 004: hotline 24 h; Zibo 001 keeps the night free only for callbacks): a 19:50 request is contacted by 20:20', () => {
    const d = (createdAt: string, category: 'no_heat' | 'leak' = 'no_heat') =>
      repairDeadlines({ createdAt: china(createdAt), category, emergency: category === 'leak' }, rules);
    expect(fmt(d('2026-11-25T10:00:00').contactDueAt)).toBe('2026-11-25 10:30');
    expect(fmt(d('2026-11-25T19:50:00').contactDueAt)).toBe('2026-11-25 20:20');
    expect(fmt(d('2026-11-25T23:50:00').contactDueAt)).toBe('2026-11-26 00:20');
    expect(fmt(d('2026-11-26T00:10:00').contactDueAt)).toBe('2026-11-26 00:40');
    const late = d('2026-11-25T23:50:00');
    expect(fmt(late.doneDueAt)).toBe('2026-11-27 23:50');
    // Harbin 003: the order reaches a worker within 10 min; Zibo 001: on site within 30 min
    expect(fmt(late.dispatchDueAt)).toBe('2026-11-26 00:00');
    expect(fmt(late.onSiteDueAt)).toBe('2026-11-26 00:20');
    // a booked visit: on site by the slot's end
    expect(
      fmt(
        repairDeadlines({ createdAt: china('2026-11-25T10:00:00'), category: 'no_heat', emergency: false, slotEnd: china('2026-11-25T16:00:00') }, rules)
          .onSiteDueAt,
      ),
    ).toBe('2026-11-25 16:00');
  });

  it('emergencies run around the clock, across midnight; the category and company settings set the clock', () => {
    // Changchun 000: a leak on site within 25 min
    const leak = repairDeadlines({ createdAt: china('2026-11-25T23:30:00'), category: 'leak', emergency: true }, rules);
    expect(fmt(leak.contactDueAt)).toBe('2026-11-25 23:35');
    expect(fmt(leak.onSiteDueAt)).toBe('2026-11-25 23:55');
    // Heihe 004: indoor flooding is an emergency, on site within 1 h
    expect(isEmergency('flooding', false, rules)).toBe(true);
    expect(fmt(repairDeadlines({ createdAt: china('2026-11-25T23:30:00'), category: 'flooding', emergency: true }, rules).onSiteDueAt)).toBe(
      '2026-11-26 00:30',
    );
    // a routine category the resident flags urgent: Heihe's 1 h, or the category's own 30 min (Zibo 001) when sooner
    const flagged = repairDeadlines(
      { createdAt: china('2026-11-25T23:50:00'), category: 'valve', emergency: true },
      CompanyRules.parse({ sla: { emergencyOnSiteMinutes: 20 } }),
    );
    expect(fmt(flagged.onSiteDueAt)).toBe('2026-11-26 00:10');
    // Harbin 003: on site in 15 min for every category
    const harbin = CompanyRules.parse({
      repairs: { categories: rules.repairs.categories.map((c) => ({ ...c, onSiteMinutes: 15 })) },
    });
    expect(fmt(repairDeadlines({ createdAt: china('2026-11-25T23:50:00'), category: 'no_heat', emergency: false }, harbin).onSiteDueAt)).toBe(
      '2026-11-26 00:05',
    );
    // a company that does not count leaks as emergencies
    const calm = CompanyRules.parse({ repairs: { categories: rules.repairs.categories.map((c) => ({ ...c, emergency: false })) } });
    expect(isEmergency('leak', false, calm)).toBe(false);
  });

  it('callbacks are never scheduled 20:00–08:00 and stay within 24 h', () => {
    const late = callbackSchedule(china('2026-11-25T21:00:00'), false, rules);
    expect(fmt(late.scheduledAt)).toBe('2026-11-26 08:00');
    expect(fmt(late.dueAt)).toBe('2026-11-26 20:00');
    const day = callbackSchedule(china('2026-11-25T10:00:00'), true, rules);
    expect(fmt(day.scheduledAt)).toBe('2026-11-25 10:00');
    expect(fmt(day.dueAt)).toBe('2026-11-26 10:00');
    expect(fmt(day.reportDueAt)).toBe('2026-11-25 12:00');
    const early = callbackSchedule(china('2026-11-25T06:30:00'), false, rules);
    expect(fmt(early.scheduledAt)).toBe('2026-11-25 08:00');
    expect(inQuietHours(early.scheduledAt, rules.sla)).toBe(false);
    expect(early.dueAt.getTime() - china('2026-11-25T06:30:00').getTime()).toBeLessThanOrEqual(24 * 3600_000);
  });

  it('promise text and slot checks', () => {
    const now = china('2026-11-25T23:50:00');
    expect(contactPromise(china('2026-11-26T08:30:00'), now)).toBe('预计 明天 08:30 前联系您');
    expect(contactPromise(china('2026-11-25T23:55:00'), now)).toBe('预计 23:55 前联系您');
    expect(slotProblem(china('2026-11-26T19:00:00'), china('2026-11-26T21:00:00'), now, rules.sla)).toMatch(/不上门/);
    expect(slotProblem(china('2026-11-26T09:00:00'), china('2026-11-26T11:00:00'), now, rules.sla)).toBeNull();
  });
});

describe('repairs over HTTP', () => {
  let now = china('2026-11-25T10:00:00');
  const t = testAppForFile({ seedDemo: true, clock: () => now });
  const tick = (minutes: number) => (now = new Date(now.getTime() + minutes * 60_000));
  let worker1: string;
  let dispatcher: string;
  let agent1: string;
  const areaB = demoHouseholds().filter((h) => h.accountNo.startsWith('02') && h.status === 'active' && h.use === 'residential');

  beforeAll(async () => {
    worker1 = await t.loginStaff('worker1');
    dispatcher = await t.loginStaff('dispatcher1');
    agent1 = await t.loginStaff('agent1');
  });

  const staffId = async (username: string) => (await t.ds.getRepository(Staff).findOneByOrFail({ username })).id;
  async function book(r: { token: string; accountId: number }, body: Record<string, unknown> = {}) {
    const res = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: { accountId: r.accountId, category: 'no_heat', description: '卧室暖气片上热下凉', ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  it('books a routine repair with a photo: dispatched to the area butler, promise and timeline shown', async () => {
    const r = await t.residentWith(DEMO.accounts[0]!);
    const up = await t.upload(r.token, 'repair_photo');
    expect(up.status).toBe(201);
    const img = await fetch(t.url + up.body.url);
    expect(img.headers.get('content-type')).toBe('image/png');
    const bad = await t.upload(r.token, 'repair_photo', Buffer.from('AAAA'));
    expect(bad.body.error.code).toBe('UPLOAD_INVALID');

    const ticket = await book(r, {
      photos: [up.body.id],
      residentReadingC: 16.5,
      slotStart: china('2026-11-25T14:00:00').toISOString(),
      slotEnd: china('2026-11-25T16:00:00').toISOString(),
    });
    expect(ticket.status).toBe('assigned');
    expect(ticket.emergency).toBe(false);
    expect(ticket.assigneeName).toBe('李客服');
    expect(ticket.promise).toBe('预计 10:30 前联系您');
    // a signed link to the same photo (the signature's expiry may have moved on)
    expect(ticket.photos.map((u: string) => u.split('?')[0])).toEqual([`/api/v1/uploads/${up.body.id}`]);
    expect((await fetch(t.url + ticket.photos[0])).status).toBe(200);
    expect(ticket.contactPhoneMasked).toMatch(/^1\d{2}\*{4}\d{4}$/);
    expect(ticket.timeline.map((x: any) => x.state)).toEqual(['pending', 'assigned']);
    const list = await t.call('GET', '/api/v1/repairs', { token: r.token });
    expect(list.body.items).toHaveLength(1);
  });

  it('refuses slots at night and photos that are not the resident’s', async () => {
    const r = await t.residentWith(DEMO.accounts[1]!);
    const night = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: {
        accountId: r.accountId,
        category: 'valve',
        description: '阀门拧不动了',
        slotStart: china('2026-11-25T20:00:00').toISOString(),
        slotEnd: china('2026-11-25T21:00:00').toISOString(),
      },
    });
    expect(night.body.error.code).toBe('REPAIR_SLOT_INVALID');
    const foreign = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: { accountId: r.accountId, category: 'valve', description: '阀门拧不动了', photos: ['up_' + 'a'.repeat(32)] },
    });
    expect(foreign.status).toBe(400);
  });

  it('a leak is an emergency and goes to the on-duty crew (worker of the area)', async () => {
    const r = await t.residentWith(DEMO.accounts[2]!);
    const ticket = await book(r, { category: 'leak', description: '厨房暖气管漏水', emergency: false });
    expect(ticket.emergency).toBe(true);
    expect(ticket.assigneeName).toBe('钱师傅');
    // Changchun 000: a leak on site within 25 min (the category's clock, company setting repairs.categories)
    expect(fmt(new Date(ticket.onSiteDueAt))).toBe(fmt(new Date(now.getTime() + 25 * 60_000)));
    const mine = await t.call('GET', '/api/v1/staff/repairs?mine=1', { token: worker1 });
    expect(mine.body.items.map((x: any) => x.id)).toContain(ticket.id);
  });

  it('grab order: with no crew in the area the ticket waits; of two workers grabbing at once one wins', async () => {
    const r = await t.residentWith(areaB[0]!);
    const ticket = await book(r, { category: 'leak', description: '楼道暖气管滴水' });
    expect(ticket.status).toBe('pending');
    await t.services.outbox.drain();
    const notices = await t.ds.getRepository(RepairStaffNotice).find({ where: { ticketId: ticket.id } });
    expect(notices.map((n) => n.staffId)).toEqual([await staffId('dispatcher1')]);

    const areaId = (await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: ticket.id })).areaId;
    for (const u of ['worker-b1', 'worker-b2'])
      await t.services.identity.createStaff({
        username: u,
        name: u === 'worker-b1' ? '冯师傅' : '韩师傅',
        password: 'demo-2026',
        roles: ['worker'],
        areaIds: [areaId],
      });
    const [a, b] = [await t.loginStaff('worker-b1'), await t.loginStaff('worker-b2')];
    const pool = await t.call('GET', '/api/v1/staff/repairs?pool=1', { token: a });
    expect(pool.body.items.map((x: any) => x.id)).toContain(ticket.id);
    // worker1 serves area A01 only: cannot see or grab it
    expect((await t.call('POST', `/api/v1/staff/repairs/${ticket.id}/grab`, { token: worker1 })).status).toBe(404);

    const results = await Promise.all([a, b].map((token) => t.call('POST', `/api/v1/staff/repairs/${ticket.id}/grab`, { token })));
    expect(results.map((x) => x.status).sort()).toEqual([200, 409]);
    expect(results.find((x) => x.status === 409)!.body.error.code).toBe('REPAIR_ALREADY_TAKEN');
    const row = await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: ticket.id });
    expect(row.status).toBe('assigned');
    expect([await staffId('worker-b1'), await staffId('worker-b2')]).toContain(row.assigneeId);
  });

  it('resident-side repair needs the resident’s consent; unsatisfied rating reopens and escalates; dispatcher reassigns', async () => {
    const r = await t.residentWith(DEMO.accounts[3]!);
    const ticket = await book(r, { category: 'leak', description: '户内阀门漏水' });
    const id = ticket.id;
    const call = (path: string, body?: unknown, token = worker1) => t.call('POST', `/api/v1/staff/repairs/${id}/${path}`, { token, body });
    expect((await call('arrive')).body.status).toBe('on_site');
    expect((await call('resolve', { notes: '已处理' })).body.error.code).toBe('REPAIR_SIDE_REQUIRED');
    const side = await call('side', { side: 'resident', items: [{ code: 'valve_replace', qty: 1 }, { code: 'visit' }] });
    expect(side.body.status).toBe('awaiting_consent');
    expect(side.body.priceFen).toBe(10000);
    expect((await call('resolve', { notes: '更换阀门' })).body.error.code).toBe('REPAIR_CONSENT_REQUIRED');
    // the resident sees the price list and consents in the app
    const view = await t.call('GET', `/api/v1/repairs/${id}`, { token: r.token });
    expect(view.body.priceItems.map((x: any) => x.name)).toContain('更换阀门（含工）');
    expect((await t.call('POST', `/api/v1/repairs/${id}/consent`, { token: r.token, body: { accept: true } })).body.status).toBe('in_progress');
    const done = await call('resolve', { notes: '更换DN20阀门一个', materials: [{ name: 'DN20球阀', qty: 1 }] });
    expect(done.body.status).toBe('resolved');
    const cb = await t.ds.getRepository(RepairCallback).findOneByOrFail({ ticketId: id });
    expect(cb.status).toBe('pending');

    // the agent sees the callback task (10:xx is outside quiet hours)
    const tasks = await t.call('GET', '/api/v1/staff/repairs/callbacks', { token: agent1 });
    expect(tasks.body.items.map((x: any) => x.ticketId)).toContain(id);

    const rated = await t.call('POST', `/api/v1/repairs/${id}/rating`, { token: r.token, body: { rating: 2, comment: '还是漏' } });
    expect(rated.body.status).toBe('reopened');
    await t.services.outbox.drain();
    const esc = await t.ds.getRepository(RepairStaffNotice).find({ where: { ticketId: id, kind: 'escalation' } });
    expect(esc.map((n) => n.staffId)).toEqual([await staffId('dispatcher1')]);
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id })).escalationLevel).toBe(1);

    const again = await t.call('POST', `/api/v1/staff/repairs/${id}/assign`, {
      token: dispatcher,
      body: { staffId: await staffId('worker1'), reason: '返修' },
    });
    expect(again.body.status).toBe('assigned');
    // the rating of a reopened ticket is not accepted again until it is resolved
    expect((await t.call('POST', `/api/v1/repairs/${id}/rating`, { token: r.token, body: { rating: 5 } })).body.error.code).toBe('INVALID_TRANSITION');
  });

  it('company-side work closes with a satisfied rating', async () => {
    const r = await t.residentWith(DEMO.accounts[4]!);
    const { id } = await book(r, { category: 'leak', description: '暖气片接口滴水' });
    for (const [p, b] of [['contact'], ['arrive'], ['side', { side: 'company' }], ['resolve', { notes: '更换垫片' }]] as const)
      expect((await t.call('POST', `/api/v1/staff/repairs/${id}/${p}`, { token: worker1, body: b })).status).toBe(200);
    const rated = await t.call('POST', `/api/v1/repairs/${id}/rating`, { token: r.token, body: { rating: 5, comment: '师傅很专业' } });
    expect(rated.body.status).toBe('closed');
    expect(rated.body.timeline.map((x: any) => x.state)).toEqual(['pending', 'assigned', 'contacted', 'on_site', 'in_progress', 'resolved', 'closed']);
  });

  it('callback task: the agent records "not satisfied", the ticket reopens and escalates; the dispatcher picks a worker of the area and reassigns', async () => {
    const r = await t.residentWith(DEMO.accounts[4]!);
    const { id } = await book(r, { category: 'leak', description: '客厅暖气片跑水' });
    for (const [p, b] of [['arrive'], ['side', { side: 'company' }], ['resolve', { notes: '紧固接口' }]] as const)
      expect((await t.call('POST', `/api/v1/staff/repairs/${id}/${p}`, { token: worker1, body: b })).status).toBe(200);
    const tasks = await t.call('GET', '/api/v1/staff/repairs/callbacks', { token: agent1 });
    const task = tasks.body.items.find((x: any) => x.ticketId === id);
    expect(task.ticket).toMatchObject({ id, status: 'resolved', resolution: '紧固接口' });
    expect(task.minutesLeft).toBeGreaterThan(0);
    // workers cannot record callbacks
    expect((await t.call('POST', `/api/v1/staff/repairs/callbacks/${task.id}`, { token: worker1, body: { outcome: 'satisfied' } })).status).toBe(403);
    const done = await t.call('POST', `/api/v1/staff/repairs/callbacks/${task.id}`, {
      token: agent1,
      body: { outcome: 'unsatisfied', notes: '住户说还在滴水' },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await t.call('POST', `/api/v1/staff/repairs/callbacks/${task.id}`, { token: agent1, body: { outcome: 'satisfied' } })).body.error.code).toBe(
      'CALLBACK_ALREADY_DONE',
    );
    expect((await t.call('GET', '/api/v1/staff/repairs/callbacks', { token: agent1 })).body.items.map((x: any) => x.ticketId)).not.toContain(id);
    const row = await t.ds.getRepository(RepairTicket).findOneByOrFail({ id });
    expect(row).toMatchObject({ status: 'reopened', reopenCount: 1 });
    expect(row.escalationLevel).toBeGreaterThanOrEqual(1);
    await t.services.outbox.drain();
    const notices = await t.call('GET', '/api/v1/staff/repairs/notices', { token: dispatcher });
    expect(notices.body.items.find((n: any) => n.ticketId === id && n.kind === 'escalation').text).toContain('回访住户不满意');
    // read once seen: only the dispatcher's own notices change
    expect(notices.body.items.some((n: any) => !n.read)).toBe(true);
    const marked = await t.call('POST', '/api/v1/staff/repairs/notices/read', { token: dispatcher, body: {} });
    expect(marked.body.marked).toBe(notices.body.items.filter((n: any) => !n.read).length);
    const after = await t.call('GET', '/api/v1/staff/repairs/notices', { token: dispatcher });
    expect(after.body.items.every((n: any) => n.read)).toBe(true);
    expect((await t.call('POST', '/api/v1/staff/repairs/notices/read', { token: dispatcher, body: {} })).body.marked).toBe(0);

    // the dispatcher's picker: the area's butlers/workers, least loaded first; others may not ask
    expect((await t.call('GET', `/api/v1/staff/repairs/${id}/assignees`, { token: worker1 })).status).toBe(403);
    const picker = await t.call('GET', `/api/v1/staff/repairs/${id}/assignees`, { token: dispatcher });
    expect(picker.status).toBe(200);
    const ids = picker.body.items.map((a: any) => a.id);
    expect(ids).toContain(await staffId('worker1'));
    expect(picker.body.items.every((a: any) => a.roles.length > 0 && a.roles.every((x: string) => x === 'butler' || x === 'worker'))).toBe(true);
    const opens = picker.body.items.map((a: any) => a.open);
    expect([...opens].sort((a, b) => a - b)).toEqual(opens);
    const w1 = await staffId('worker1');
    const other = picker.body.items.find((a: any) => a.id !== w1) ?? picker.body.items[0];
    const moved = await t.call('POST', `/api/v1/staff/repairs/${id}/assign`, {
      token: dispatcher,
      body: { staffId: other.id, reason: '回访不满意，换人处理' },
    });
    expect(moved.body).toMatchObject({ status: 'assigned', assigneeId: other.id });
  });

  it('overdue tickets escalate to the supervisor, then the department head', async () => {
    const r = await t.residentWith(DEMO.accounts[5]!);
    const { id } = await book(r);
    expect((await t.services.repairs.escalateOverdue(now)).escalated).toBe(0);
    tick(31);
    await t.services.repairs.escalateOverdue(now);
    let row = await t.ds.getRepository(RepairTicket).findOneByOrFail({ id });
    expect(row.escalationLevel).toBe(1);
    await t.services.repairs.escalateOverdue(now); // again at once: no change
    tick(30);
    await t.services.repairs.escalateOverdue(now);
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id })).escalationLevel).toBe(1);
    tick(31);
    await t.services.repairs.escalateOverdue(now);
    row = await t.ds.getRepository(RepairTicket).findOneByOrFail({ id });
    expect(row.escalationLevel).toBe(2);
    await t.services.outbox.drain();
    const esc = await t.ds.getRepository(RepairStaffNotice).find({ where: { ticketId: id, kind: 'escalation' }, order: { id: 'ASC' } });
    expect(esc.map((n) => n.staffId)).toEqual([await staffId('dispatcher1'), await staffId('admin')]);
    expect(esc[1]!.text).toMatch(/部门负责人.*联系/);
    const overdue = await t.call('GET', '/api/v1/staff/repairs?overdue=1', { token: dispatcher });
    const mine = overdue.body.items.find((x: any) => x.id === id);
    expect(mine.overdue).toBe(true);
    expect(mine.minutesLeft).toBeLessThan(0);
    const notices = await t.call('GET', '/api/v1/staff/repairs/notices', { token: await t.loginStaff('admin') });
    expect(notices.body.items.some((n: any) => n.ticketId === id)).toBe(true);
  });

  it('an emergency whose result is not reported within 2 h of finishing escalates; a timely report does not', async () => {
    const late = await t.residentWith(DEMO.accounts[9]!);
    const onTime = await t.residentWith(DEMO.accounts[10]!);
    const ids: number[] = [];
    for (const r of [late, onTime]) {
      const { id } = await book(r, { category: 'leak', description: '卫生间暖气管爆裂漏水' });
      for (const [p, b] of [['arrive'], ['side', { side: 'company' }], ['resolve', { notes: '更换爆裂管段' }]] as const)
        expect((await t.call('POST', `/api/v1/staff/repairs/${id}/${p}`, { token: worker1, body: b })).status).toBe(200);
      ids.push(id);
    }
    const [lateId, onTimeId] = ids as [number, number];
    // only the assignee reports; not before finishing, not twice
    const rep = await t.call('POST', `/api/v1/staff/repairs/${onTimeId}/report`, { token: worker1, body: { report: '已更换管段，恢复供热，无次生损失' } });
    expect(rep.status, JSON.stringify(rep.body)).toBe(200);
    expect(rep.body.reportedAt).toBeTruthy();
    expect((await t.call('POST', `/api/v1/staff/repairs/${onTimeId}/report`, { token: worker1, body: { report: '重复汇报' } })).body.error.code).toBe(
      'REPAIR_REPORT_SUBMITTED',
    );
    const view = await t.call('GET', `/api/v1/staff/repairs/${lateId}`, { token: worker1 });
    expect(fmt(new Date(view.body.reportDueAt))).toBe(fmt(new Date(now.getTime() + 120 * 60_000)));
    tick(119);
    await t.services.repairs.escalateOverdue(now);
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: lateId })).escalationLevel).toBe(0);
    tick(2);
    await t.services.repairs.escalateOverdue(now);
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: lateId })).escalationLevel).toBe(1);
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: onTimeId })).escalationLevel).toBe(0);
    await t.services.outbox.drain();
    const esc = await t.ds.getRepository(RepairStaffNotice).find({ where: { ticketId: lateId, kind: 'escalation' } });
    expect(esc.map((n) => n.staffId)).toEqual([await staffId('dispatcher1')]);
    expect(esc[0]!.text).toMatch(/汇报/);
    const overdue = await t.call('GET', '/api/v1/staff/repairs?overdue=1', { token: dispatcher });
    expect(overdue.body.items.map((x: any) => x.id)).toContain(lateId);
    expect(overdue.body.items.map((x: any) => x.id)).not.toContain(onTimeId);
    // reporting late stops the clock
    expect((await t.call('POST', `/api/v1/staff/repairs/${lateId}/report`, { token: worker1, body: { report: '已处置完毕' } })).status).toBe(200);
    tick(61);
    await t.services.repairs.escalateOverdue(now);
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: lateId })).escalationLevel).toBe(1);
  });

  it('access: residents see only their tickets, staff only their areas, roles are enforced', async () => {
    const owner = await t.residentWith(DEMO.accounts[6]!);
    const other = await t.residentWith(DEMO.accounts[7]!);
    const { id } = await book(owner);
    expect((await t.call('GET', `/api/v1/repairs/${id}`, { token: other.token })).status).toBe(404);
    expect((await t.call('POST', `/api/v1/repairs/${id}/cancel`, { token: other.token })).status).toBe(404);
    expect((await t.call('GET', '/api/v1/repairs', { token: other.token })).body.items).toHaveLength(0);
    // booking for an account the resident has not bound
    const foreign = await t.call('POST', '/api/v1/repairs', {
      token: other.token,
      body: { accountId: owner.accountId, category: 'other', description: '不是我家的户号' },
    });
    expect(foreign.status).toBe(404);
    expect((await t.call('GET', '/api/v1/staff/repairs', { token: owner.token })).status).toBe(403);
    expect((await t.call('POST', `/api/v1/staff/repairs/${id}/assign`, { token: worker1, body: { staffId: 1 } })).status).toBe(403);
    // a worker of area B sees nothing of area A
    const b1 = await t.loginStaff('worker-b1');
    expect((await t.call('GET', `/api/v1/staff/repairs/${id}`, { token: b1 })).status).toBe(404);
    expect((await t.call('GET', '/api/v1/staff/repairs', { token: b1 })).body.items.every((x: any) => x.areaId !== 1 || false)).toBe(true);
    // a worker who does not hold the ticket cannot work on it
    expect((await t.call('POST', `/api/v1/staff/repairs/${id}/arrive`, { token: worker1 })).status).toBe(403);
    // assigning to someone outside the area is refused
    expect(
      (await t.call('POST', `/api/v1/staff/repairs/${id}/assign`, { token: dispatcher, body: { staffId: await staffId('worker-b1') } })).body.error.code,
    ).toBe('REPAIR_ASSIGNEE_INVALID');
    expect((await t.call('POST', `/api/v1/repairs/${id}/cancel`, { token: owner.token })).body.status).toBe('cancelled');
    // a worker of no area yet: an empty page of the same shape, with the time it was taken (the
    // staff pages count SLA minutes from it)
    await t.services.identity.createStaff({ username: 'worker-none', name: '新师傅', password: 'demo-2026', roles: ['worker'], areaIds: [] });
    const none = await t.call('GET', '/api/v1/staff/repairs', { token: await t.loginStaff('worker-none') });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ items: [], total: 0, page: 1, pageSize: expect.any(Number), now: now.toISOString() });
  });

  it('temperature measurement (Changchun 000): inside the windows, timed by the server, three named parties; a ruling only below 18 ℃; the refund by the stated rule, after the season', async () => {
    const acc = DEMO.accounts[8]!;
    const r = await t.residentWith(acc);
    const book = (scheduledAt: Date, threeParty = true) =>
      t.call('POST', '/api/v1/measurements', { token: r.token, body: { accountId: r.accountId, scheduledAt: scheduledAt.toISOString(), threeParty } });
    // now is 10:xx on 2026-11-25: 10:30 and 20:00 are outside 06:00–08:00 / 16:00–20:00
    expect((await book(china('2026-11-25T10:30:00'))).body.error.code).toBe('MEASUREMENT_OUTSIDE_WINDOW');
    expect((await book(china('2026-11-25T20:00:00'))).body.error.code).toBe('MEASUREMENT_OUTSIDE_WINDOW');
    const booked = await book(china('2026-11-25T16:30:00'));
    expect(booked.status).toBe(201);
    const id = booked.body.id;
    const checks = { doorsWindowsClosed30Min: true, midRoom: true, height1_4m: true, stable5Min: true };
    const station = await t.loginStaff('station1');
    const readings = [
      { room: '主卧', readingC: 17.2, checks },
      { room: '客厅', readingC: 18.4, checks },
    ];
    const parties = { company: '吴站长', resident: acc.ownerName, community: '社区王主任' };
    const record = (mid: number, body: Record<string, unknown>) => t.call('POST', `/api/v1/staff/measurements/${mid}/readings`, { token: station, body });
    // the time of measuring is the server's: at 12:00 (outside the windows) nothing can be recorded,
    // whatever time is typed
    now = china('2026-11-25T12:00:00');
    expect((await record(id, { measuredAt: china('2026-11-25T16:40:00').toISOString(), readings, parties })).body.error.code).toBe(
      'MEASUREMENT_OUTSIDE_WINDOW',
    );
    now = china('2026-11-25T16:40:00');
    expect((await record(id, { readings })).status).toBe(400);
    // every party named: a blank name is refused, field by field
    const blank = await record(id, { readings, parties: { ...parties, community: '  ' } });
    expect(blank.body.error.details.fields).toEqual([{ field: 'parties.community', message: '请填写社区签字人姓名' }]);
    const recorded = await record(id, { measuredAt: china('2026-11-20T07:00:00').toISOString(), readings, parties });
    expect(recorded.body).toMatchObject({
      status: 'recorded',
      minReadingC: 17.2,
      compliance: 'below_legal',
      measuredAt: china('2026-11-25T16:40:00').toISOString(),
    });
    const ruled = await t.call('POST', `/api/v1/staff/measurements/${id}/ruling`, {
      token: station,
      body: { refundFen: 999999, note: '主卧低于18℃，按天退费' },
    });
    expect(ruled.body.status).toBe('ruled');

    // a passing three-party measurement six days later ends the shortfall
    now = china('2026-12-01T16:30:00');
    r.token = await t.loginResident(r.user);
    const later = await book(china('2026-12-01T16:30:00'));
    now = china('2026-12-01T16:45:00');
    const station2 = await t.loginStaff('station1');
    const passed = await t.call('POST', `/api/v1/staff/measurements/${later.body.id}/readings`, {
      token: station2,
      body: { readings: [{ room: '主卧', readingC: 20.5, checks }], parties },
    });
    expect(passed.body.compliance).toBe('ok');
    // a ruling only on a reading below the standard
    expect((await t.call('POST', `/api/v1/staff/measurements/${later.body.id}/ruling`, { token: station2, body: { note: '复测达标' } })).body.error.code).toBe(
      'MEASUREMENT_COMPLIANT',
    );

    // the resident paid this season's bill (real time: the WeChat Pay sandbox checks expiry)
    const saved = now;
    now = new Date();
    // the app was seeded on this describe's fixed clock: its current season is that clock's; and
    // sessions opened then may have run out by the test's real day (HB_TEST_NOW)
    const season = demoSeasons(saved)[1]!.code;
    r.token = await t.loginResident(r.user);
    const stationNow = await t.loginStaff('station1');
    const bill = (await t.call('GET', '/api/v1/bills', { token: r.token })).body.items.find((b: any) => b.accountNo === acc.accountNo && b.season === season);
    const order = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    await t.call('POST', '/sandbox/device/pay', { body: { ...order.body.requestPayment, user: r.user, action: 'confirm' } });
    await t.sandbox!.state.settleNotifications();
    expect((await t.call('POST', `/api/v1/payments/${order.body.id}/confirm`, { token: r.token })).body.status).toBe('paid');

    const finance = await t.loginStaff('finance1');
    expect((await t.call('GET', `/api/v1/staff/measurements/${id}/orders`, { token: stationNow })).status).toBe(403);
    const orders = await t.call('GET', `/api/v1/staff/measurements/${id}/orders`, { token: finance });
    expect(orders.body.items).toEqual([expect.objectContaining({ id: order.body.id, refundableFen: orders.body.items[0].amountFen })]);
    expect((await t.call('POST', `/api/v1/staff/measurements/${id}/refund`, { token: stationNow, body: { orderId: order.body.id } })).status).toBe(403);
    // paid after the season by default: in the season it is refused (nothing reaches WeChat)
    now = saved;
    const financeThen = await t.loginStaff('finance1');
    const early = await t.call('POST', `/api/v1/staff/measurements/${id}/refund`, { token: financeThen, body: { orderId: order.body.id } });
    expect(early.body.error.code).toBe('RULING_REFUND_NOT_YET');
    // a company that pays at once (settings), on the real day
    const admin = await t.loginStaff('admin');
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    expect(
      (
        await t.call('PUT', '/api/v1/admin/settings', {
          token: admin,
          body: { ...cur, rules: { ...cur.rules, measurementRefund: { percent: 100, payAfterSeason: false } } },
        })
      ).status,
    ).toBe(200);
    now = new Date();
    const refund = await t.call('POST', `/api/v1/staff/measurements/${id}/refund`, { token: finance, body: { orderId: order.body.id } });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    // 6 days below the standard (Nov 25 → Dec 1) of the 151-day season 2026-11-01 → 2027-04-01
    const paid = order.body.amountFen as number;
    expect(refund.body.refund).toMatchObject({ amountFen: Math.floor((paid * 6) / 151), kind: 'ruling', rulingRef: ruled.body.no });
    expect(refund.body.refund.reason).toContain('不达标6天 ÷ 采暖季151天');
    expect(refund.body.measurement.refundId).toBe(refund.body.refund.id);
    expect((await t.call('POST', `/api/v1/staff/measurements/${id}/refund`, { token: finance, body: { orderId: order.body.id } })).body.error.code).toBe(
      'MEASUREMENT_REFUNDED',
    );
    // finance's ordinary refund of kind "ruling" cites this recorded ruling, or is refused
    expect(
      (
        await t.call('POST', `/api/v1/staff/payments/${order.body.id}/refunds`, {
          token: finance,
          body: { amountFen: 100, reason: '裁定退费', rulingRef: 'CW-NOT-A-RULING' },
        })
      ).body.error.code,
    ).toBe('RULING_NOT_RECORDED');
    now = saved;
    // back on the fixed clock: a session opened on the test's real day (months away under
    // HB_TEST_NOW) is not valid here
    r.token = await t.loginResident(r.user);

    // a plain (not three-party) measurement cannot be ruled on
    now = china('2026-12-02T07:00:00');
    const plain = await book(china('2026-12-02T07:00:00'), false);
    expect(plain.status, JSON.stringify(plain.body)).toBe(201);
    now = china('2026-12-02T07:10:00');
    await t.call('POST', `/api/v1/staff/measurements/${plain.body.id}/readings`, {
      token: station2,
      body: { readings: [{ room: '主卧', readingC: 16.5, checks }] },
    });
    expect((await t.call('POST', `/api/v1/staff/measurements/${plain.body.id}/ruling`, { token: station2, body: { note: '测试裁定' } })).body.error.code).toBe(
      'MEASUREMENT_NOT_THREE_PARTY',
    );
    now = saved;
  });

  it('callbacks are not offered to agents during quiet hours', async () => {
    const saved = now;
    now = china('2026-11-25T21:30:00');
    const tasks = await t.call('GET', '/api/v1/staff/repairs/callbacks', { token: agent1 });
    expect(tasks.body.items).toEqual([]);
    now = saved;
  });
});
