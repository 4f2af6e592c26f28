/**
 * Complaints (投诉) on the real BFF and database: the seeds' clocks (Changchun 000: closed within
 * 24 h, 72 h with the resident's agreement, callback within 24 h; Harbin 003: 24 h, at most 48 h,
 * 12345 hotline tickets), sources and hotline numbers, escalation to the department head, and what
 * the resident sees.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { demoHouseholds, type DemoHousehold } from '../../demo/seed';

const china = (s: string) => new Date(s + '+08:00');
const HOUR = 3_600_000;

describe('complaints over HTTP', () => {
  let t: TestApp;
  let now = china('2026-12-01T09:00:00');
  const households = demoHouseholds().filter((h) => h.status === 'active' && h.use === 'residential');
  let agent1 = '';
  let agent2 = '';
  let admin = '';

  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true, clock: () => now });
    agent1 = await t.loginStaff('agent1');
    agent2 = await t.loginStaff('agent2');
    admin = await t.loginStaff('admin');
  });
  afterAll(async () => t?.close());

  async function resident(h: DemoHousehold) {
    const token = await t.loginResident('c-' + crypto.randomUUID().slice(0, 8));
    const res = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { token, accountId: res.body.accountId as number };
  }
  const act = async (token: string, id: number, step: string, body?: unknown, status = 200) => {
    const res = await t.call('POST', `/api/v1/staff/complaints/${id}/${step}`, { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    return res.body;
  };
  async function setComplaintHours(c: { closeHours: number; agreedCloseHours: number; callbackHours: number }) {
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    return t.call('PUT', '/api/v1/admin/settings', { token: admin, body: { ...cur, rules: { ...cur.rules, complaints: c } } });
  }

  it('Changchun 000: a resident’s complaint is closed within 24 h, 72 h once the resident agreed (once), then called back within 24 h', async () => {
    now = china('2026-12-01T09:00:00');
    const r = await resident(households[0]!);
    const filed = await t.call('POST', '/api/v1/complaints', { token: r.token, body: { accountId: r.accountId, content: '连续三天室温不到18度' } });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    const c = filed.body;
    expect(c).toMatchObject({ source: 'app', sourceLabel: '住户小程序', status: 'open', statusLabel: '已受理', extended: false, externalNo: null });
    expect(new Date(c.closeDueAt).getTime() - now.getTime()).toBe(24 * HOUR);
    expect(c.no).toMatch(/^TS[0-9A-F]{12}$/);

    await act(agent1, c.id, 'take');
    const ext = await act(agent1, c.id, 'extend', { note: '住户电话中同意延长至72小时' });
    expect(new Date(ext.closeDueAt).getTime() - now.getTime()).toBe(72 * HOUR);
    expect(ext).toMatchObject({ extended: true, agreementNote: '住户电话中同意延长至72小时', status: 'processing' });
    const again = await t.call('POST', `/api/v1/staff/complaints/${c.id}/extend`, { token: agent1, body: { note: '再延长一次' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('COMPLAINT_ALREADY_EXTENDED');

    now = new Date(now.getTime() + 30 * HOUR);
    const resolved = await act(agent1, c.id, 'resolve', { resolution: '更换入户阀门，室温已达20度' });
    expect(resolved.status).toBe('resolved');
    expect(resolved.overdue).toBe(false);
    expect(new Date(resolved.callbackDueAt).getTime() - now.getTime()).toBe(24 * HOUR);
    const closed = await act(agent1, c.id, 'callback', { outcome: 'satisfied' });
    expect(closed).toMatchObject({ status: 'closed', statusLabel: '已办结', callbackOutcome: 'satisfied' });

    // the resident sees it with its status, deadline and the answer, and the timeline
    const mine = await t.call('GET', '/api/v1/complaints', { token: r.token });
    expect(mine.body.items.map((x: any) => [x.id, x.status])).toEqual([[c.id, 'closed']]);
    const view = await t.call('GET', `/api/v1/complaints/${c.id}`, { token: r.token });
    expect(view.body).toMatchObject({ resolution: '更换入户阀门，室温已达20度', extended: true });
    expect(view.body).not.toHaveProperty('contactPhone');
    expect(view.body.timeline.map((e: any) => e.label)).toEqual(['已受理', '处理中', '进展', '已处理，待回访', '已办结']);
    // another resident, and staff of another area, see nothing
    const stranger = await t.loginResident('c-stranger');
    expect((await t.call('GET', `/api/v1/complaints/${c.id}`, { token: stranger })).status).toBe(404);
    expect((await t.call('GET', `/api/v1/staff/complaints/${c.id}`, { token: agent2 })).status).toBe(404);
  });

  it('the resident who filed it hears the answer as a subscription message (once, if allowed); a hotline complaint sends none', async () => {
    now = china('2026-12-01T11:00:00');
    const user = 'c-' + crypto.randomUUID().slice(0, 8);
    const token = await t.loginResident(user);
    const h = households[2]!;
    const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    await t.allowMessages(token, user, ['complaintProgress']);
    const templateId = t.services.notifications.templateId('complaintProgress');
    const sent = () => t.sandbox!.state.subscribeMessages.filter((m) => m.templateId === templateId);
    const before = sent().length;

    const filed = await t.call('POST', '/api/v1/complaints', { token, body: { accountId: bound.body.accountId, content: '客厅温度只有16度' } });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    await act(agent1, filed.body.id, 'take');
    await t.services.outbox.drain();
    expect(sent()).toHaveLength(before); // taking it is not the answer: the one grant is kept for it
    const answer = '已调整单元平衡阀，今晚起室温可达18度以上，请留意';
    await act(agent1, filed.body.id, 'resolve', { resolution: answer });
    await t.services.outbox.drain();
    const mine = sent().slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      errcode: 0,
      page: `pages/complaints/detail?id=${filed.body.id}`,
      data: {
        character_string1: { value: filed.body.no },
        thing2: { value: answer.slice(0, 20) }, // WeChat's thing: 20 characters at most
        phrase3: { value: '已答复' },
        time4: { value: '2026-12-01 11:00' },
      },
    });

    // a 12345 complaint staff registered: the callback reaches the resident by phone, no message
    const hotline = await t.call('POST', '/api/v1/staff/complaints', {
      token: agent1,
      body: { accountId: bound.body.accountId, source: 'hotline_12345', externalNo: 'RX20261201-0777', content: '市民热线转来：室温低' },
    });
    expect(hotline.status, JSON.stringify(hotline.body)).toBe(201);
    await act(agent1, hotline.body.id, 'take');
    await act(agent1, hotline.body.id, 'resolve', { resolution: '已上门处理' });
    await t.services.outbox.drain();
    expect(sent().slice(before)).toHaveLength(1);
  });

  it('Harbin 003: 12345 hotline complaints carry the hotline’s ticket number; staff register them for a household the resident then sees', async () => {
    now = china('2026-12-02T10:00:00');
    const h = households[1]!;
    const r = await resident(h);
    const missing = await t.call('POST', '/api/v1/staff/complaints', {
      token: agent1,
      body: { accountId: r.accountId, source: 'hotline_12345', content: '市民热线转来：暖气不热' },
    });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('热线工单号');
    const body = {
      accountId: r.accountId,
      source: 'hotline_12345',
      externalNo: 'RX20261202-0031',
      content: '市民热线转来：暖气不热',
      contactPhone: '0451-86661234',
    };
    const filed = await t.call('POST', '/api/v1/staff/complaints', { token: agent1, body });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body).toMatchObject({
      source: 'hotline_12345',
      sourceLabel: '12345市民热线',
      externalNo: 'RX20261202-0031',
      accountNo: h.accountNo,
      contactPhone: '0451-86661234',
    });
    const dup = await t.call('POST', '/api/v1/staff/complaints', { token: agent1, body });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('COMPLAINT_DUPLICATE_EXTERNAL_NO');
    // 12319 also needs it; a phone complaint does not
    expect(
      (await t.call('POST', '/api/v1/staff/complaints', { token: agent1, body: { ...body, source: 'hotline_12319', externalNo: undefined } })).status,
    ).toBe(400);
    const phone = await t.call('POST', '/api/v1/staff/complaints', {
      token: agent1,
      body: { accountId: r.accountId, source: 'phone', content: '电话投诉：维修人员态度差' },
    });
    expect(phone.status).toBe(201);
    // staff of another area can't register one for this household
    expect((await t.call('POST', '/api/v1/staff/complaints', { token: agent2, body: { ...body, externalNo: 'RX-9999' } })).status).toBe(404);
    // the household's resident sees the hotline complaints in the app
    const mine = await t.call('GET', '/api/v1/complaints', { token: r.token });
    expect(mine.body.items.map((x: any) => x.source).sort()).toEqual(['hotline_12345', 'phone']);

    // Harbin's numbers as the company's settings: at most 48 h with agreement
    expect((await setComplaintHours({ closeHours: 24, agreedCloseHours: 12, callbackHours: 24 })).status).toBe(400);
    expect((await setComplaintHours({ closeHours: 24, agreedCloseHours: 48, callbackHours: 24 })).status).toBe(200);
    const ext = await act(agent1, filed.body.id, 'extend', { note: '住户同意48小时内解决' });
    expect(new Date(ext.closeDueAt).getTime() - new Date(ext.createdAt).getTime()).toBe(48 * HOUR);
    await setComplaintHours({ closeHours: 24, agreedCloseHours: 72, callbackHours: 24 });
  });

  it('an overdue complaint escalates to the supervisor, then to the department head (Heihe 004); an unsatisfied callback goes straight to the head', async () => {
    now = china('2026-12-03T08:00:00');
    const r = await resident(households[2]!);
    const { body: c } = await t.call('POST', '/api/v1/complaints', { token: r.token, body: { accountId: r.accountId, content: '报修三天没人上门' } });
    // (other tests' complaints may escalate too: the level of this one is what counts)
    const level = async () => {
      await t.services.complaints.escalateOverdue();
      return (await t.call('GET', `/api/v1/staff/complaints/${c.id}`, { token: admin })).body.escalationLevel;
    };
    now = new Date(now.getTime() + 23 * HOUR);
    expect(await level()).toBe(0);
    now = new Date(now.getTime() + 1 * HOUR + 60_000);
    expect(await level()).toBe(1);
    let v = (await t.call('GET', `/api/v1/staff/complaints/${c.id}`, { token: agent1 })).body;
    expect(v).toMatchObject({ escalationLevel: 1, overdue: true });
    expect(v.minutesLeft).toBeLessThan(0);
    // the company's escalateToHeadMinutes (60) later, still overdue: the department head
    now = new Date(now.getTime() + 59 * 60_000);
    expect(await level()).toBe(1);
    now = new Date(now.getTime() + 60_000);
    expect(await level()).toBe(2);
    v = (await t.call('GET', `/api/v1/staff/complaints/${c.id}`, { token: admin })).body;
    expect(v.escalationLevel).toBe(2);
    expect(v.timeline.map((e: any) => e.reason)).toEqual(expect.arrayContaining(['办结超时，升级至主管', '办结超时，升级至部门负责人']));
    // told in the staff notices (升级提醒): the area's supervisor (dispatcher), then the department head (admin)
    await t.services.outbox.drain();
    const noticeOf = async (token: string) =>
      ((await t.call('GET', '/api/v1/staff/repairs/notices', { token })).body.items as any[])
        .filter((n) => n.kind === 'complaint' && n.ticketId === c.id)
        .map((n) => n.text);
    expect(await noticeOf(await t.loginStaff('dispatcher1'))).toEqual([`【主管】投诉 ${c.no} 办结已超时`]);
    expect(await noticeOf(admin)).toEqual([`【部门负责人】投诉 ${c.no} 办结已超时`]);
    const overdueList = await t.call('GET', '/api/v1/staff/complaints?overdue=1', { token: agent1 });
    expect(overdueList.body.items.map((x: any) => x.id)).toContain(c.id);

    // unsatisfied callback: back to processing, at the department head, with a fresh 24 h clock
    await act(agent1, c.id, 'take');
    await act(agent1, c.id, 'resolve', { resolution: '已联系维修班组上门' });
    const back = await act(agent1, c.id, 'callback', { outcome: 'unsatisfied', notes: '仍然不热' });
    expect(back).toMatchObject({ status: 'processing', escalationLevel: 2, callbackOutcome: 'unsatisfied', overdue: false });
    expect(new Date(back.closeDueAt).getTime() - now.getTime()).toBe(24 * HOUR);
    await t.services.outbox.drain();
    expect(await noticeOf(admin)).toContain(`【部门负责人】投诉 ${c.no} 回访不满意，请督办`);
    // a move the table does not have
    expect((await t.call('POST', `/api/v1/staff/complaints/${c.id}/callback`, { token: agent1, body: { outcome: 'satisfied' } })).status).toBe(409);
  });

  it('refuses bad input with Chinese messages and other people’s households', async () => {
    const r = await resident(households[3]!);
    const short = await t.call('POST', '/api/v1/complaints', { token: r.token, body: { accountId: r.accountId, content: '差' } });
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.body)).toContain('至少4个字');
    const other = await resident(households[4]!);
    expect((await t.call('POST', '/api/v1/complaints', { token: r.token, body: { accountId: other.accountId, content: '别人家的投诉内容' } })).status).toBe(
      404,
    );
  });
});
