/**
 * A complaint in Chromium (Changchun 000: closed within 24 h, callback within 24 h): the resident
 * files one from the 服务 tab and sees the promised deadline in China time; an agent (second
 * browser context) takes it on the staff 投诉处理 page and records the answer; the resident sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatChinaTime } from '@heat-butler/shared';
import { fill, open, shot, startE2E, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { Complaint } from '../server/src/modules/complaints/entities';

let e: E2E;
let resident: Page;
let complaintId = 0;
const account = DEMO.accounts[8]!;
const detail = () => resident.locator('.page', { has: resident.locator('[data-complaint-detail]') });

beforeAll(async () => {
  e = await startE2E();
  resident = await e.newPage();
  await residentWithAccount(resident, e.host.url, 'e2e-complaint', account);
}, 180_000);
afterAll(async () => e?.close());

describe('a complaint from filing to answer in the H5 app', () => {
  it('the resident files a complaint and sees the 24-hour deadline in China time', async () => {
    await open(resident, e.host.url, '/pages/services/index');
    await resident.reload();
    await expect.poll(() => resident.locator('[data-entry="complaints"]').count(), { timeout: 10_000 }).toBe(1);
    await resident.locator('[data-entry="complaints"]').click();
    await resident.waitForURL(/pages\/complaints\/index/);
    await resident.locator('[data-entry="complaint-new"]').click();
    await resident.waitForURL(/pages\/complaints\/new/);
    // too short: the server's Chinese message under the field
    await resident.locator('textarea').first().fill('差');
    await resident.locator('[data-submit-complaint]').click();
    await expect.poll(() => resident.locator('.field-error').first().innerText(), { timeout: 10_000 }).toContain('至少4个字');
    await resident.locator('textarea').first().fill('报修三天没人上门，家里只有16度');
    await shot(resident, 'complaint-new');
    await resident.locator('[data-submit-complaint]').click();
    await resident.waitForURL(/pages\/complaints\/detail/);
    complaintId = Number(/id=(\d+)/.exec(resident.url())![1]);
    const row = await e.host.ds.getRepository(Complaint).findOneByOrFail({ id: complaintId });
    expect(row.closeDueAt.getTime() - row.createdAt.getTime()).toBe(24 * 3_600_000);
    await expect.poll(() => detail().innerText(), { timeout: 10_000 }).toContain(`承诺 ${formatChinaTime(row.closeDueAt)} 前办结`);
    await expect.poll(() => detail().innerText()).toContain('已受理');
    await shot(resident, 'complaint-filed');
  });

  it('an agent takes it and records the answer; the resident sees the answer and the progress', async () => {
    const agent = await e.newPage();
    await open(agent, e.host.url, '/staff/login/index');
    await fill(agent, 'username', 'agent1');
    await fill(agent, 'password', 'demo-2026');
    await agent.getByText('登录', { exact: true }).click();
    await agent.waitForURL(/staff\/home\/index/);
    await open(agent, e.host.url, '/staff/complaints/index');
    const card = agent.locator(`[data-staff-complaint-id="${complaintId}"]`);
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => card.innerText()).toMatch(/剩余 \d+小时/);
    await shot(agent, 'complaint-staff-list');
    await card.click();
    await expect.poll(() => agent.locator('[data-take]').count(), { timeout: 10_000 }).toBe(1);
    await agent.locator('[data-take]').click();
    await expect.poll(() => agent.locator('[data-resolve]').count(), { timeout: 10_000 }).toBe(1);
    await agent.locator('[data-complaint-detail] textarea').fill('已派维修班组上门排气，室温恢复到20度');
    await agent.locator('[data-resolve]').click();
    await expect.poll(() => agent.locator('[data-callback="satisfied"]').count(), { timeout: 10_000 }).toBe(1);
    await shot(agent, 'complaint-staff-detail');

    await resident.reload();
    await expect.poll(() => detail().innerText(), { timeout: 10_000 }).toContain('处理结果：已派维修班组上门排气');
    await expect.poll(() => detail().innerText()).toContain('已处理，待回访');
    await expect.poll(() => detail().innerText()).toMatch(/客服将在 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 前回访/);
    await shot(resident, 'complaint-answered');
  });
});
