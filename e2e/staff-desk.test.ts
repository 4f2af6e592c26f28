/**
 * The staff console at a desk (1280 px) and on a phone (390 px), issue 17: two panes (list and
 * detail) from 1024 px; the inbox shows the resident's account context (户号, address, bills, open
 * tickets) beside the question with the reply box below it, never over it; every dashboard tile
 * opens its list (an agent reaches the area's repairs); the stop/resume review names the owner and
 * the applicant with their relation; an announcement needs its restore time and asks, with the
 * number of residents it reaches, before pushing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { fill, open, shot, staffWithPassword, startE2E, type E2E } from './support/browser';
import { DESK, PHONE } from './support/gallery';
import { DEMO } from '../server/src/demo/seed';
import { Announcement } from '../server/src/modules/groups/entities';

let e: E2E;
/** a resident in arrears (building 1, area A) asking in the group, with an open repair */
const asker = DEMO.arrearsAccounts[0]!;
/** a family member applying to stop heating next season */
const applicant = DEMO.accounts[5]!;
let questionId = 0;
let ticketNo = '';
let applicationId = 0;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

async function api(method: string, path: string, token?: string, body?: unknown): Promise<any> {
  const res = await fetch(`${e.host.url}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
async function residentToken(user: string): Promise<string> {
  const dev = await api('POST', '/sandbox/device/login', undefined, { user });
  return (await api('POST', '/api/v1/auth/wechat', undefined, { code: dev.code })).token;
}
const box = async (l: Locator) => (await l.boundingBox())!;

beforeAll(async () => {
  e = await startE2E();
  // the next season open for 报停 (its deadline ahead whatever the test's clock); this season paid
  const y = Number(DEMO.seasons[1]!.code.slice(0, 4)) + 1;
  const next = `${y}-${y + 1}`;
  await e.host.services.billing.createSeason({
    code: next,
    startDate: `${y}-11-01`,
    endDate: `${y + 1}-04-01`,
    dueDate: `${y}-12-31`,
    tariffs: { residential: 2700, commercial: 3800 },
    baseFeeRatioBp: 3000,
    lateFeeDailyBp: 10,
    lateFeeCapBp: 1000,
  });
  await e.host.services.billing.issueBills(next);
  const bill = (await e.host.services.billing.billsOfSeason(DEMO.seasons[1]!.code)).find((b) => b.accountNo === applicant.accountNo)!;
  await e.host.services.billing.settleAtCounter(bill.id, new Date());

  const a = await residentToken('e2e-desk-asker');
  const bound = await api('POST', '/api/v1/accounts/bind', a, { accountNo: asker.accountNo, ownerName: asker.ownerName, relation: 'owner' });
  const group = (await api('GET', '/api/v1/groups', a)).items[0];
  questionId = (await api('POST', `/api/v1/groups/${group.id}/messages`, a, { text: '家里暖气一直不热，是不是因为欠费？' })).id;
  ticketNo = (await api('POST', '/api/v1/repairs', a, { accountId: bound.accountId, category: 'no_heat', description: '卧室暖气片不热' })).no;

  const f = await residentToken('e2e-desk-family');
  const fam = await api('POST', '/api/v1/accounts/bind', f, { accountNo: applicant.accountNo, ownerName: applicant.ownerName, relation: 'family' });
  const form = new FormData();
  form.append('purpose', 'id_document');
  form.append('file', new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'id.png');
  const up = await fetch(`${e.host.url}/api/v1/uploads`, { method: 'POST', headers: { Authorization: `Bearer ${f}` }, body: form }).then((r) => r.json());
  applicationId = (
    await api('POST', '/api/v1/service-changes', f, { accountId: fam.accountId, season: next, kind: 'stop', documents: [{ kind: 'id_photo', url: up.id }] })
  ).id;
}, 180_000);
afterAll(async () => e?.close());

describe('at a desk (1280 px)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await e.newPage({ viewport: DESK });
    await staffWithPassword(page, e.host.url, 'agent1');
  }, 60_000);

  const home = async () => {
    await open(page, e.host.url, '/staff/home/index');
    await expect.poll(() => page.locator('[data-dash-tile]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
  };

  it('the agent’s 未完成维修工单 tile opens the area’s repairs, list beside the ticket', async () => {
    await home();
    // an agent (and butler) is linked to the repairs page, not only workers and dispatchers
    await expect.poll(() => page.locator('.dash-link', { hasText: '维修工单' }).count()).toBe(1);
    await page.locator('[data-dash-tile="未完成维修工单"]').click();
    await page.waitForURL(/staff\/repairs\/index\?tab=area/);
    await expect.poll(() => page.locator('[data-desk="two-pane"]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('.segment-active').innerText()).toBe('片区工单');
    const row = page.locator('[data-repair-row]', { hasText: ticketNo });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await row.click();
    const detail = page.locator('[data-desk-detail] [data-staff-repair-id]');
    await expect.poll(() => detail.innerText(), { timeout: 10_000 }).toContain('卧室暖气片不热');
    expect((await box(detail)).x).toBeGreaterThan((await box(row)).x + (await box(row)).width - 1);
    await shot(page, 'desk-repairs-agent');

    // 已超时 opens the overdue list
    await home();
    await page.locator('[data-dash-tile="已超时"]').click();
    await page.waitForURL(/staff\/repairs\/index\?tab=overdue/);
    await expect.poll(() => page.locator('.segment-active').innerText(), { timeout: 10_000 }).toBe('已超时');

    // 1小时内到期 opens the tickets due within the hour (the same rule as the tile's count)
    await home();
    await page.locator('[data-dash-tile="1小时内到期"]').click();
    await page.waitForURL(/staff\/repairs\/index\?tab=soon/);
    await expect.poll(() => page.locator('.segment-active').innerText(), { timeout: 10_000 }).toBe('即将到期');
  }, 90_000);

  it('every other tile opens its list', async () => {
    for (const [tile, route] of [
      ['群消息待回复', /staff\/inbox\/index/],
      ['报停/复供待审核', /staff\/service-changes\/index/],
    ] as const) {
      await home();
      await page.locator(`[data-dash-tile="${tile}"]`).click();
      await page.waitForURL(route);
    }
  }, 90_000);

  it('the inbox shows the question, the reply box under it and the resident’s account context beside it', async () => {
    await open(page, e.host.url, '/staff/inbox/index');
    const item = page.locator(`[data-inbox-id="${questionId}"]`);
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-desk="two-pane"]').count()).toBe(1);
    await item.click();
    const question = page.locator(`[data-inbox-question="${questionId}"]`);
    const context = page.locator('[data-inbox-context]');
    await expect.poll(() => question.innerText(), { timeout: 10_000 }).toContain('是不是因为欠费');
    await expect.poll(() => context.innerText(), { timeout: 10_000 }).toContain(`户号 ${asker.accountNo}`);
    await expect.poll(() => page.locator(`[data-ctx-account="${asker.accountNo}"] .tag`).first().innerText()).toBe('户主');
    await expect.poll(() => context.innerText()).toContain('锦绣家园');
    await expect.poll(() => context.innerText()).toMatch(/待缴 ¥[\d,]+\.\d{2}/);
    await expect.poll(() => context.innerText()).toContain(ticketNo);
    await expect.poll(() => context.innerText()).toContain('未完成的报修（1）');
    // the last season's unpaid bill and this season's, each with its state
    await expect.poll(() => page.locator('[data-ctx-bill]').count()).toBeGreaterThanOrEqual(2);

    // list | question + reply | context, left to right; the reply box starts below the question
    const [l, q, c, r] = await Promise.all([box(item), box(question), box(context), box(page.locator('.reply-panel'))]);
    expect(q.x).toBeGreaterThanOrEqual(l.x + l.width - 1);
    expect(c.x).toBeGreaterThanOrEqual(q.x + q.width - 1);
    expect(r.y).toBeGreaterThanOrEqual(q.y + q.height - 1);
    await expect.poll(() => page.locator('.reply-panel').evaluate((el) => getComputedStyle(el).position)).toBe('static');
    await shot(page, 'desk-inbox-context');
  }, 90_000);

  it('the stop/resume review shows the ID photo with the owner’s name and the applicant’s relation', async () => {
    await open(page, e.host.url, '/staff/service-changes/index');
    const card = page.locator(`[data-application-id="${applicationId}"]`);
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await card.click();
    const detail = page.locator(`[data-desk-detail] [data-application-detail="${applicationId}"]`);
    await expect.poll(() => detail.locator('[data-owner-name]').innerText(), { timeout: 10_000 }).toBe(applicant.ownerName);
    await expect.poll(() => detail.locator('[data-applicant]').innerText()).toBe('家属');
    await expect
      .poll(() => detail.locator('[data-doc-photo] img').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect((await box(detail)).x).toBeGreaterThan((await box(card)).x + (await box(card)).width - 1);
    await shot(page, 'desk-service-change-review');
  }, 90_000);

  it('an outage needs its restore time; publishing asks first, saying how many residents get the push', async () => {
    await open(page, e.host.url, '/staff/announce/index');
    const building = (await e.host.services.accounts.listBuildings())[0]!;
    const target = page.locator(`[data-ann-target="${building.id}"]`);
    await expect.poll(() => target.count(), { timeout: 10_000 }).toBe(1);
    await target.click();
    await fill(page, 'ann-title', '停热通知');
    await page.locator('[data-ann-body] textarea').fill('主管线抢修，暂停供热');
    // no silent default: the restore time starts empty and is required
    await expect.poll(() => page.locator('[data-restore-date]').innerText()).toBe('选择日期');
    const before = await e.host.ds.getRepository(Announcement).count();
    await page.locator('[data-ann-submit]').click();
    await expect.poll(() => page.locator('.field-error').innerText(), { timeout: 10_000 }).toBe('请选择预计恢复日期');
    await expect.poll(() => page.locator('.taro__modal').isVisible()).toBe(false);

    // a notice needs no restore time: the confirmation names the count the server previews
    await page.locator('[data-ann-type="notice"]').click();
    const token = (await api('POST', '/api/v1/auth/staff/login', undefined, { username: 'agent1', password: 'demo-2026' })).token;
    const reach = await api('POST', '/api/v1/staff/announcements/preview', token, {
      scope: 'building',
      targetId: building.id,
      type: 'notice',
      title: '停热通知',
      body: '主管线抢修，暂停供热',
    });
    expect(reach.recipients).toBeGreaterThan(0);
    await page.locator('[data-ann-submit]').click();
    const modal = page.locator('.taro__modal');
    await expect.poll(() => modal.innerText(), { timeout: 10_000 }).toContain(`向${reach.recipients}位住户推送`);
    await shot(page, 'desk-announce-confirm');
    await modal.getByText('再看看', { exact: true }).click();
    await page.waitForTimeout(500);
    await expect.poll(() => e.host.ds.getRepository(Announcement).count()).toBe(before);

    await page.locator('[data-ann-submit]').click();
    await expect.poll(() => modal.innerText(), { timeout: 10_000 }).toContain(`向${reach.recipients}位住户推送`);
    await modal.getByText('发布', { exact: true }).click();
    await expect.poll(() => e.host.ds.getRepository(Announcement).count(), { timeout: 10_000 }).toBe(before + 1);
    const made = await e.host.ds.getRepository(Announcement).find({ order: { id: 'DESC' }, take: 1 });
    expect(made[0]!.recipients).toBe(reach.recipients);
  }, 90_000);
});

describe('on a phone (390 px)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await e.newPage({ viewport: PHONE });
    await staffWithPassword(page, e.host.url, 'agent1');
  }, 60_000);

  it('the inbox opens a question in place of the list: question first, account context, reply box below, and back', async () => {
    await open(page, e.host.url, '/staff/inbox/index');
    await expect.poll(() => page.locator('[data-desk="phone-list"]').count(), { timeout: 10_000 }).toBe(1);
    const item = page.locator(`[data-inbox-id="${questionId}"]`);
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    await item.click();
    await expect.poll(() => page.locator('[data-desk="phone-detail"]').count()).toBe(1);
    await expect.poll(() => item.isVisible()).toBe(false);
    const question = page.locator(`[data-inbox-question="${questionId}"]`);
    await expect.poll(() => page.locator('[data-inbox-context]').innerText(), { timeout: 10_000 }).toContain(asker.accountNo);
    const [q, c, r] = await Promise.all([box(question), box(page.locator('[data-inbox-context]')), box(page.locator('.reply-panel'))]);
    expect(q.y).toBeLessThan(PHONE.height);
    expect(c.y).toBeGreaterThanOrEqual(q.y + q.height - 1);
    expect(r.y).toBeGreaterThanOrEqual(c.y + c.height - 1);
    // whatever is scrolled, the question is not covered: nothing is fixed or sticky over it
    await page.locator('[data-reply] textarea').scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, -5000);
    await page.waitForTimeout(300);
    const top = await question.evaluate((el) => {
      const b = el.getBoundingClientRect();
      const hit = document.elementFromPoint(b.left + b.width / 2, b.top + Math.min(40, b.height / 2));
      return !!hit && el.contains(hit);
    });
    expect(top).toBe(true);
    await shot(page, 'phone-inbox-question');
    await page.locator('[data-desk-back]').click();
    await expect.poll(() => item.isVisible()).toBe(true);
  }, 90_000);

  it('repairs and the review stay one column, with the details inline', async () => {
    await open(page, e.host.url, '/staff/repairs/index?tab=area');
    const card = page.locator('[data-staff-repair-id]', { hasText: ticketNo });
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-desk="two-pane"]').count()).toBe(0);
    await expect.poll(() => card.innerText()).toContain('卧室暖气片不热');

    await open(page, e.host.url, '/staff/service-changes/index');
    const app = page.locator(`[data-application-id="${applicationId}"]`);
    await expect.poll(() => app.count(), { timeout: 10_000 }).toBe(1);
    await app.locator('.row').first().click();
    await expect.poll(() => app.locator('[data-owner-name]').innerText(), { timeout: 10_000 }).toBe(applicant.ownerName);
    await expect.poll(() => app.locator('[data-applicant]').innerText()).toBe('家属');
    await shot(page, 'phone-service-change-review');
  }, 90_000);
});
