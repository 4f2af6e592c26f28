/**
 * One "overdue" rule (shared/src/overdue.ts): the staff dashboard, the repairs list's 已超时 tab
 * (its SQL twin) and 即将到期 tab, each ticket's red tag and time left, and the staff pages agree on every kind of
 * ticket. Real BFF, real database (MariaDB with TEST_DATABASE_URL).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadlineState,
  formatMinutesLeft,
  isRepairOverdue,
  minutesLeftState,
  missedRepairDeadlines,
  nextRepairDeadline,
  repairDeadlineState,
  type RepairClock,
} from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';
import { RepairTicket } from './entities';

const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 2, 0) + m * 60_000);
const NOW = at(0);
const clock = (over: Partial<RepairClock>): RepairClock => ({
  status: 'assigned',
  contactedAt: null,
  contactDueAt: at(30),
  onSiteAt: null,
  onSiteDueAt: null,
  resolvedAt: null,
  doneDueAt: at(48 * 60),
  reportedAt: null,
  reportDueAt: null,
  ...over,
});

describe('the rule', () => {
  it('owes contact, on-site and done while open; an emergency its report after resolving; nothing otherwise', () => {
    expect(missedRepairDeadlines(clock({ contactDueAt: at(-1) }), NOW)).toEqual(['contact']);
    expect(missedRepairDeadlines(clock({ contactDueAt: at(-1), contactedAt: at(-5) }), NOW)).toEqual([]);
    expect(missedRepairDeadlines(clock({ contactedAt: at(-5), onSiteDueAt: at(-2), doneDueAt: at(-1) }), NOW)).toEqual(['on_site', 'done']);
    expect(
      missedRepairDeadlines(clock({ status: 'resolved', resolvedAt: at(-200), contactDueAt: at(-300), doneDueAt: at(-100), reportDueAt: at(-1) }), NOW),
    ).toEqual(['report']);
    expect(missedRepairDeadlines(clock({ status: 'closed', resolvedAt: at(-200), reportDueAt: at(-1), reportedAt: at(-2) }), NOW)).toEqual([]);
    expect(missedRepairDeadlines(clock({ status: 'cancelled', contactDueAt: at(-100) }), NOW)).toEqual([]);
    expect(nextRepairDeadline(clock({ status: 'cancelled' }))).toBeNull();
  });

  it('overdue / due soon / on time agree between the dates and the minutes a page holds', () => {
    for (const m of [-120, -61, -1, -0.01, 0, 0.01, 1, 59, 59.99, 60, 60.01, 61, 600]) {
      const t = clock({ contactDueAt: at(m) });
      const left = Math.floor((at(m).getTime() - NOW.getTime()) / 60_000);
      expect(minutesLeftState(left), `minute ${m}`).toBe(repairDeadlineState(t, NOW));
      expect(deadlineState(at(m), NOW)).toBe(repairDeadlineState(t, NOW));
      expect(isRepairOverdue(t, NOW)).toBe(repairDeadlineState(t, NOW) === 'overdue');
      expect(formatMinutesLeft(left).startsWith('已超时')).toBe(isRepairOverdue(t, NOW));
    }
    expect(formatMinutesLeft(-65)).toBe('已超时 1小时5分');
    expect(formatMinutesLeft(20)).toBe('剩余 20分钟');
  });
});

describe('the dashboard, the 已超时 and 即将到期 tabs and each ticket agree', () => {
  let t: TestApp;
  let now = new Date('2026-11-25T02:00:00Z');
  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true, clock: () => now });
  });
  afterAll(async () => t?.close());

  it('on every kind of ticket', async () => {
    const admin = await t.loginStaff('admin');
    const ids: number[] = [];
    for (const [i, account] of DEMO.accounts.slice(0, 3).entries()) {
      const token = await t.loginResident('ov-' + crypto.randomUUID().slice(0, 8));
      const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } });
      expect(bound.status).toBe(201);
      for (const category of ['no_heat', 'leak', 'no_heat'])
        ids.push(
          (await t.call('POST', '/api/v1/repairs', { token, body: { accountId: bound.body.accountId, category, description: `测试工单${i}${category}` } })).body
            .id,
        );
    }
    const m = (min: number) => new Date(now.getTime() + min * 60_000);
    // every shape the rule distinguishes, written straight onto the rows
    const shapes: Partial<RepairTicket>[] = [
      { contactDueAt: m(-5) }, // contact missed
      { contactedAt: m(-50), contactDueAt: m(-40), onSiteDueAt: m(-1) }, // on-site missed
      { contactDueAt: m(30) }, // due soon
      { contactDueAt: m(300) }, // on time
      { status: 'resolved', contactedAt: m(-300), onSiteAt: m(-250), resolvedAt: m(-200), contactDueAt: m(-400), doneDueAt: m(-100), reportDueAt: m(-1) }, // report missed
      { status: 'resolved', contactedAt: m(-300), onSiteAt: m(-250), resolvedAt: m(-20), contactDueAt: m(-400), doneDueAt: m(-100), reportDueAt: m(100) }, // report owed, on time
      { status: 'closed', contactedAt: m(-300), resolvedAt: m(-200), reportDueAt: m(-100), reportedAt: m(-150), contactDueAt: m(-400), doneDueAt: m(-100) }, // reported
      { status: 'cancelled', contactDueAt: m(-100), doneDueAt: m(-50) }, // cancelled: owes nothing
      { contactedAt: m(-10), contactDueAt: m(-20), doneDueAt: m(45) }, // contacted late, done due soon
    ];
    for (const [i, shape] of shapes.entries()) await t.ds.getRepository(RepairTicket).update({ id: ids[i]! }, shape);

    const rows = await t.ds.getRepository(RepairTicket).find();
    const expected = { open: 0, onTime: 0, dueSoon: 0, overdue: 0 };
    for (const r of rows) {
      const s = repairDeadlineState(r, now);
      if (!s) continue;
      expected.open++;
      expected[s === 'overdue' ? 'overdue' : s === 'due_soon' ? 'dueSoon' : 'onTime']++;
    }
    expect(expected.overdue).toBeGreaterThanOrEqual(3);

    const dash = await t.call('GET', '/api/v1/staff/dashboard', { token: admin });
    expect(dash.status).toBe(200);
    expect(dash.body.repairs).toEqual(expected);

    const tab = await t.call('GET', '/api/v1/staff/repairs?overdue=1&pageSize=100', { token: admin });
    expect(tab.status).toBe(200);
    expect(tab.body.total).toBe(expected.overdue);
    expect(tab.body.items.map((x: any) => x.id).sort()).toEqual(
      rows
        .filter((r) => isRepairOverdue(r, now))
        .map((r) => r.id)
        .sort(),
    );

    // the 1小时内到期 tile's list: the same tickets the dashboard counts as due soon
    expect(expected.dueSoon).toBeGreaterThanOrEqual(2);
    const soon = await t.call('GET', '/api/v1/staff/repairs?dueSoon=1&pageSize=100', { token: admin });
    expect(soon.status).toBe(200);
    expect(soon.body.total).toBe(expected.dueSoon);
    expect(soon.body.items.map((x: any) => x.id).sort()).toEqual(
      rows
        .filter((r) => repairDeadlineState(r, now) === 'due_soon')
        .map((r) => r.id)
        .sort(),
    );
    for (const x of soon.body.items) expect(minutesLeftState(x.minutesLeft)).toBe('due_soon');

    for (const [i, id] of ids.slice(0, shapes.length).entries()) {
      const view = (await t.call('GET', `/api/v1/staff/repairs/${id}`, { token: admin })).body;
      const row = rows.find((r) => r.id === id)!;
      expect(view.overdue, `shape ${i}`).toBe(isRepairOverdue(row, now));
      expect(minutesLeftState(view.minutesLeft), `shape ${i}`).toBe(repairDeadlineState(row, now));
    }

    // the escalation job picks exactly the overdue ones
    const { escalated } = await t.services.repairs.escalateOverdue(now);
    expect(escalated).toBe(rows.filter((r) => isRepairOverdue(r, now) && r.escalationLevel === 0).length);
  });
});
