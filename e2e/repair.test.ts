/**
 * Repairs in Chromium: a resident books an emergency repair with a photo from the 服务 tab, the
 * worker (staff login, second browser context) arrives, marks it company-side and closes it with
 * notes and a photo, and the resident rates it.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fill, open, shot, startE2E, staffWithPassword, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { RepairTicket } from '../server/src/modules/repairs/entities';
import { Staff } from '../server/src/modules/identity/entities';
import { RepairCallback } from '../server/src/modules/repairs/entities';
import { inQuietHours } from '@heat-butler/shared';

let e: E2E;
let resident: Page;
let worker: Page;
let ticketId = 0;
const account = DEMO.accounts[9]!;
/** a real 1×1 PNG */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

async function addPhoto(page: Page, trigger: string, name: string, buffer: Buffer = PNG) {
  const chooser = page.waitForEvent('filechooser');
  await page.locator(trigger).click();
  await (await chooser).setFiles({ name, mimeType: 'image/png', buffer });
}

/** A PNG of random pixels: it stays large however it is compressed (~470 KB as a JPEG at 1000×1000). */
function noisePng(side: number): Buffer {
  const raw = Buffer.alloc(side * (1 + side * 3));
  for (let y = 0; y < side; y++) crypto.randomFillSync(raw, y * (1 + side * 3) + 1, side * 3);
  const chunk = (type: string, data: Buffer) => {
    const c = Buffer.alloc(12 + data.length);
    c.writeUInt32BE(data.length, 0);
    c.write(type, 4, 'latin1');
    data.copy(c, 8);
    c.writeUInt32BE(zlib.crc32(c.subarray(4, 8 + data.length)), 8 + data.length);
    return c;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([PNG.subarray(0, 8), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** the repair detail page (Taro keeps earlier pages of the stack in the DOM) */
const detailPage = () => resident.locator('.page', { has: resident.locator('[data-repair-status]') });

beforeAll(async () => {
  // a small photo limit: a photo still too large after the phone's compression must be reported
  e = await startE2E({ config: { UPLOAD_MAX_KB: 256 } });
  resident = await e.newPage();
  await residentWithAccount(resident, e.host.url, 'e2e-repair', account);
}, 180_000);
afterAll(async () => e?.close());

describe('a repair from booking to rating in the H5 app', () => {
  it('the resident books a leak with a photo from the 服务 tab and sees the promise', async () => {
    await open(resident, e.host.url, '/pages/services/index');
    await resident.reload(); // a fresh load: the hash change alone sometimes leaves the previous tab shown
    await expect.poll(() => resident.locator('[data-repair-entries]').count(), { timeout: 10_000 }).toBe(1);
    // the stop/resume card is still there
    await expect.poll(() => resident.locator('[data-service-changes]').count(), { timeout: 10_000 }).toBe(1);
    await shot(resident, 'repair-services-tab');
    await resident.locator('[data-entry="repair-new"]').click();
    await resident.waitForURL(/pages\/repairs\/new/);
    await resident.locator('[data-category="leak"]').click();
    await resident.locator('textarea').first().fill('厨房暖气管接口漏水，地面有积水');
    // a photo still too large after compression: a dialog says so (the loading toast doesn't hide it), nothing is added
    await addPhoto(resident, '[data-add-photo]', 'huge.png', noisePng(1000));
    const dialog = resident.locator('.taro-modal__content', { hasText: '照片太大' });
    await expect.poll(() => dialog.isVisible(), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => dialog.innerText()).toMatch(/这张照片压缩后仍有[\d.]+MB，超过0\.3MB的上限，没有上传/);
    await shot(resident, 'repair-photo-too-large');
    await resident.waitForTimeout(1500); // still there after the loading toast would have gone
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await expect.poll(() => resident.locator('.repair-photos img').count()).toBe(0);
    await dialog.getByText('知道了').click();
    await expect.poll(() => dialog.isVisible(), { timeout: 5_000 }).toBe(false);

    await addPhoto(resident, '[data-add-photo]', 'leak.png');
    await expect.poll(() => resident.locator('.repair-photos img').count(), { timeout: 10_000 }).toBe(1);
    // shown through its signed link, which really loads
    const img = resident.locator('.repair-photos img').first();
    await expect.poll(() => img.getAttribute('src')).toMatch(/\/api\/v1\/uploads\/up_[a-f0-9]{32}\?exp=\d+&sig=/);
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0), { timeout: 10_000 }).toBe(true);
    await shot(resident, 'repair-new');
    await resident.locator('[data-submit-repair]').click();
    await resident.waitForURL(/pages\/repairs\/detail/);
    ticketId = Number(/id=(\d+)/.exec(resident.url())![1]);
    await expect.poll(() => resident.locator('[data-repair-status]').getAttribute('data-repair-status'), { timeout: 10_000 }).toBe('assigned');
    await expect.poll(() => detailPage().innerText(), { timeout: 10_000 }).toContain('【紧急】跑冒滴漏/漏水');
    await expect.poll(() => detailPage().innerText(), { timeout: 10_000 }).toMatch(/预计 (明天 |\d{1,2}月\d{1,2}日 )?\d{2}:\d{2} 前联系您/);
    await expect.poll(() => detailPage().innerText(), { timeout: 10_000 }).toContain('维修人员：钱师傅');
    const row = await e.host.ds.getRepository(RepairTicket).findOneByOrFail({ id: ticketId });
    expect(row.photos).toHaveLength(1);
    expect(row.emergency).toBe(true);
    await shot(resident, 'repair-booked');
  });

  it('the worker logs in, arrives, marks it company-side and closes it with a photo', async () => {
    worker = await e.newPage();
    await open(worker, e.host.url, '/staff/login/index');
    await fill(worker, 'username', 'worker1');
    await fill(worker, 'password', 'demo-2026');
    await worker.getByText('登录', { exact: true }).click();
    await worker.waitForURL(/staff\/home\/index/);
    await open(worker, e.host.url, '/staff/repairs/index');
    const card = worker.locator(`[data-staff-repair-id="${ticketId}"]`);
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toMatch(/剩余 \d+分钟/);
    await shot(worker, 'repair-staff-list');
    await card.locator('[data-arrive]').click();
    await expect.poll(() => card.locator('[data-company-side]').count(), { timeout: 10_000 }).toBe(1);
    await card.locator('[data-company-side]').click();
    await expect.poll(() => card.locator('[data-resolve-form]').count(), { timeout: 10_000 }).toBe(1);
    await card.locator('[data-resolve-form] textarea').first().fill('更换暖气管接口垫片，试压无渗漏');
    await card.locator('[data-resolve-form] textarea').nth(1).fill('垫片 2');
    await addPhoto(worker, `[data-staff-repair-id="${ticketId}"] [data-add-resolve-photo]`, 'fixed.png');
    await expect.poll(() => card.locator('.repair-photos img').count(), { timeout: 10_000 }).toBe(1);
    await shot(worker, 'repair-staff-resolve');
    await card.locator('[data-resolve]').click();
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('已完工，待评价');
    // an emergency: the result report is asked for next
    await expect.poll(() => card.locator('[data-report-form]').count(), { timeout: 10_000 }).toBe(1);
    const row = await e.host.ds.getRepository(RepairTicket).findOneByOrFail({ id: ticketId });
    expect(row).toMatchObject({ status: 'resolved', side: 'company', materials: [{ name: '垫片', qty: 2 }] });
    expect(row.resolutionPhotos).toHaveLength(1);
  });

  it('the resident sees the work done and rates it; the ticket closes', async () => {
    await resident.reload();
    await expect.poll(() => resident.locator('[data-repair-status]').getAttribute('data-repair-status'), { timeout: 10_000 }).toBe('resolved');
    await expect.poll(() => resident.locator('[data-rate]').innerText(), { timeout: 10_000 }).toContain('更换暖气管接口垫片');
    await resident.locator('[data-star="4"]').click();
    await resident.locator('[data-rate] textarea').fill('师傅来得很快');
    await shot(resident, 'repair-rate');
    await resident.locator('[data-submit-rating]').click();
    await expect.poll(() => resident.locator('[data-repair-status]').getAttribute('data-repair-status'), { timeout: 10_000 }).toBe('closed');
    await expect.poll(() => detailPage().innerText(), { timeout: 10_000 }).toContain('我的评价：★★★★');
    await expect.poll(() => detailPage().innerText(), { timeout: 10_000 }).toContain('已完结');
    const row = await e.host.ds.getRepository(RepairTicket).findOneByOrFail({ id: ticketId });
    expect(row).toMatchObject({ status: 'closed', rating: 4, ratingComment: '师傅来得很快' });
    await shot(resident, 'repair-closed');
  });

  it('the dispatcher sees the SLA report with bars and the watch list', async () => {
    const boss = await e.newPage();
    await open(boss, e.host.url, '/staff/login/index');
    await fill(boss, 'username', 'dispatcher1');
    await fill(boss, 'password', 'demo-2026');
    await boss.getByText('登录', { exact: true }).click();
    await boss.waitForURL(/staff\/home\/index/);
    await open(boss, e.host.url, '/staff/repair-report/index');
    await expect.poll(() => boss.locator('[data-report-total]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => boss.locator('[data-report-total]').innerText(), { timeout: 10_000 }).toMatch(/SLA达标率[\s\S]*共 1 单/);
    await expect.poll(() => boss.locator('[data-report-areas]').innerText(), { timeout: 10_000 }).toContain('南湖片区');
    await expect.poll(() => boss.locator('[data-report-types] .report-bar').count(), { timeout: 10_000 }).toBe(2);
    await shot(boss, 'repair-report');
    await open(boss, e.host.url, '/staff/repair-watch/index');
    await expect.poll(() => boss.locator('[data-watch-households]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => boss.locator('[data-watch-households]').innerText(), { timeout: 10_000 }).toContain('没有需要重点关注的住户');
    await shot(boss, 'repair-watch');
  });

  it('the dispatcher reassigns a ticket to a worker of the area and reads the escalation notices', async () => {
    const tickets = e.host.ds.getRepository(RepairTicket);
    const first = await tickets.findOneByOrFail({ id: ticketId });
    // a routine ticket (auto-dispatched to the area's butler) whose contact deadline has passed
    const routine = await e.host.services.repairs.create(
      { kind: 'resident', residentId: first.residentId, sessionId: 0, openid: '' },
      { accountId: first.accountId, category: 'no_heat', description: '卧室暖气不热，摸着是凉的' },
    );
    await tickets.update(routine.id, { contactDueAt: new Date(Date.now() - 60_000) });
    await e.host.services.repairs.escalateOverdue();
    await e.host.services.outbox.drain();
    const worker1 = await e.host.ds.getRepository(Staff).findOneByOrFail({ username: 'worker1' });
    expect((await tickets.findOneByOrFail({ id: routine.id })).assigneeId).not.toBe(worker1.id);

    const boss = await e.newPage();
    await staffWithPassword(boss, e.host.url, 'dispatcher1');
    await open(boss, e.host.url, '/staff/repairs/index');
    const card = boss.locator(`[data-staff-repair-id="${routine.id}"]`);
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await card.locator('[data-reassign]').click();
    await expect.poll(() => card.locator(`[data-assignee="${worker1.id}"]`).count(), { timeout: 10_000 }).toBe(1);
    await card.locator('[data-assign-picker] input').fill('管家不在岗，改派维修');
    await shot(boss, 'repair-reassign');
    await card.locator(`[data-assignee="${worker1.id}"]`).click();
    await expect.poll(async () => (await tickets.findOneByOrFail({ id: routine.id })).assigneeId, { timeout: 10_000 }).toBe(worker1.id);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain(`处理人 ${worker1.name}`);

    await boss.getByText('升级提醒', { exact: true }).click();
    await expect.poll(() => boss.locator('[data-repair-notices]').innerText(), { timeout: 10_000 }).toContain(`工单 ${routine.no}`);
    await expect.poll(() => boss.locator('[data-repair-notices]').innerText(), { timeout: 10_000 }).toContain('【主管】');
    await shot(boss, 'repair-notices');
  });

  it('the agent opens 维修回访 from the staff home: quiet hours say so; outside them the task is recorded as satisfied', async () => {
    const agent = await e.newPage();
    await staffWithPassword(agent, e.host.url, 'agent1');
    await expect.poll(() => agent.getByText('维修回访', { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await agent.getByText('维修回访', { exact: true }).click();
    await agent.waitForURL(/staff\/callbacks\/index/);
    const callbacks = e.host.ds.getRepository(RepairCallback);
    const task = await callbacks.findOneByOrFail({ ticketId });
    const company = e.host.services.company;
    const rules = await company.rules();
    let restore: (() => Promise<void>) | null = null;
    // the real clock decides: no calls 20:00–08:00 (China time)
    if (inQuietHours(new Date(), rules.sla)) {
      await expect.poll(() => agent.locator('[data-callbacks-quiet]').count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => agent.locator('[data-callback-id]').count(), { timeout: 10_000 }).toBe(0);
      await shot(agent, 'repair-callbacks-quiet');
      // then move the quiet hours away from now (restored below) so the task itself can be recorded
      const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
      const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
      const info = await company.info();
      await company.updateSettings(e.host.ds.manager, {
        ...info,
        rules: { ...rules, sla: { ...rules.sla, quietStart: hh(hour + 3), quietEnd: hh(hour + 4) } },
      });
      restore = () => company.updateSettings(e.host.ds.manager, { ...info, rules });
      await callbacks.update(task.id, { scheduledAt: new Date(Date.now() - 60_000) });
      await agent.reload();
    }
    try {
      const card = agent.locator(`[data-callback-id="${task.id}"]`);
      await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('更换暖气管接口垫片');
      await card.locator('textarea').fill('住户表示已不漏水');
      await shot(agent, 'repair-callbacks');
      await card.locator('[data-outcome="satisfied"]').click();
      await expect.poll(async () => (await callbacks.findOneByOrFail({ id: task.id })).status, { timeout: 10_000 }).toBe('done');
      await expect.poll(() => callbacks.findOneByOrFail({ id: task.id })).toMatchObject({ outcome: 'satisfied', notes: '住户表示已不漏水' });
      await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(0);
    } finally {
      await restore?.();
    }
  });

  it('an overdue ticket stops promising the past: the resident sees 已超时, urges it (催单) and is offered the hotline; no escalation line', async () => {
    const tickets = e.host.ds.getRepository(RepairTicket);
    const first = await tickets.findOneByOrFail({ id: ticketId });
    const late = await e.host.services.repairs.create(
      { kind: 'resident', residentId: first.residentId, sessionId: 0, openid: '' },
      { accountId: first.accountId, category: 'leak', description: '阳台暖气管一直在滴水' },
    );
    // the emergency's contact and on-site deadlines passed 5 minutes ago; the supervisor was told
    const past = new Date(Date.now() - 5 * 60_000);
    await tickets.update(late.id, { contactDueAt: past, onSiteDueAt: past });
    await e.host.services.repairs.escalateOverdue();
    await open(resident, e.host.url, `/pages/repairs/detail?id=${late.id}`);
    await resident.reload();
    const page = () => resident.locator('.page', { has: resident.locator('[data-repair-clock]') });
    await expect.poll(() => resident.locator('[data-repair-overdue]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => resident.locator('[data-repair-overdue]').innerText()).toContain('已超过承诺的联系您、上门时间');
    await expect.poll(() => page().innerText()).not.toMatch(/预计 .* 前联系您/);
    await expect.poll(() => page().innerText()).not.toContain('超时升级');
    await expect.poll(() => page().innerText()).not.toContain('主管');
    await expect.poll(() => resident.locator('[data-deadline="on_site"]').getAttribute('data-deadline-state')).toBe('overdue');
    await expect.poll(() => resident.locator('[data-call-hotline]').innerText()).toContain('拨打服务热线');
    await shot(resident, 'repair-overdue');
    await resident.locator('[data-urge]').click();
    await expect.poll(async () => (await tickets.findOneByOrFail({ id: late.id })).urgeCount, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => resident.locator('[data-urged]').innerText(), { timeout: 10_000 }).toMatch(/已催单，(明天 |\d+月\d+日 )?\d{2}:\d{2} 后可再次催单/); // near midnight the next urge falls on the next day
    await expect.poll(() => resident.locator('[data-urge]').count()).toBe(0);
    await expect.poll(() => page().innerText()).toContain('住户催单');
    await shot(resident, 'repair-urged');
  });

  it('the resident books a temperature measurement in a window; the station sees it with the record form', async () => {
    await open(resident, e.host.url, '/pages/measurements/index');
    await resident.reload();
    await expect.poll(() => resident.locator('[data-measure-book]').count(), { timeout: 10_000 }).toBe(1);
    await resident.getByText('明天', { exact: true }).click();
    await resident.locator('[data-slot="06:00"]').click();
    await resident.locator('[data-submit-measure]').click();
    await expect.poll(() => resident.locator('[data-measurement-id]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => resident.locator('[data-measurement-id]').innerText(), { timeout: 10_000 }).toMatch(/已预约[\s\S]*06:00/);
    await shot(resident, 'measurement-booked');
    const station = await e.newPage();
    await open(station, e.host.url, '/staff/login/index');
    await fill(station, 'username', 'station1');
    await fill(station, 'password', 'demo-2026');
    await station.getByText('登录', { exact: true }).click();
    await station.waitForURL(/staff\/home\/index/);
    await open(station, e.host.url, '/staff/measurements/index');
    await expect.poll(() => station.locator('[data-staff-measurement-id] [data-record-form]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => station.locator('[data-staff-measurement-id]').innerText(), { timeout: 10_000 }).toContain('1号楼');
    await shot(station, 'measurement-staff');
  });
});
