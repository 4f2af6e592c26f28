/**
 * 管家群 in two browser pages of one Chromium: a resident asks in the group (text and a photo), an
 * agent answers from the inbox in a second page (its own browser context, so its own session), and
 * the resident's page shows the answer live over the WebSocket, without reloading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fill, open, shot, startE2E, type E2E, residentWithAccount, staffWithPassword } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { GroupMessage } from '../server/src/modules/groups/entities';
import { Session } from '../server/src/modules/identity/entities';
import { IsNull } from 'typeorm';

let e: E2E;
let resident: Page;
let agent: Page;
const account = DEMO.accounts[3]!;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
/** every WebSocket frame the resident's page received */
const residentFrames: string[] = [];

beforeAll(async () => {
  e = await startE2E();
  resident = await e.newPage();
  resident.on('websocket', (ws) => ws.on('framereceived', (f) => residentFrames.push(String(f.payload))));
  await residentWithAccount(resident, e.host.url, 'e2e-asker', account);

  agent = await e.newPage();
  await staffWithPassword(agent, e.host.url, 'agent1');
}, 180_000);
afterAll(async () => e?.close());

const lastResidentMessage = async () =>
  (await e.host.ds.getRepository(GroupMessage).find({ where: { senderKind: 'resident' }, order: { id: 'DESC' }, take: 1 }))[0]!;

describe('a resident asks in 管家群 and an agent answers from the inbox', () => {
  it('the resident asks in the group', async () => {
    await open(resident, e.host.url, '/pages/group/index');
    await expect.poll(() => resident.locator('.group-title').innerText(), { timeout: 10_000 }).toContain('供热管家群');
    // the socket is up before anything is sent (the 'ready' frame)
    await expect.poll(() => residentFrames.some((f) => f.includes('"type":"ready"')), { timeout: 10_000 }).toBe(true);
    await resident.locator('.composer-input input').fill('卧室只有16度，暖气片上热下凉');
    await resident.locator('[data-send]').click();
    await expect.poll(() => resident.locator('.messages .msg-mine').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => resident.locator('.messages .msg-mine').innerText(), { timeout: 10_000 }).toContain('卧室只有16度');
    // and a photo (the H5 build picks it with a file input)
    const chooser = resident.waitForEvent('filechooser');
    await resident.locator('[data-send-photo]').click();
    await (await chooser).setFiles({ name: 'radiator.png', mimeType: 'image/png', buffer: PNG });
    await expect.poll(() => resident.locator('.messages [data-message-image]').count(), { timeout: 10_000 }).toBe(1);
    await shot(resident, 'group-ask');
  }, 90_000);

  it('the agent claims it in the inbox, inserts a standard reply, and the resident sees the answer live', async () => {
    const question = (
      await e.host.ds.getRepository(GroupMessage).find({ where: { senderKind: 'resident', kind: 'text' }, order: { id: 'DESC' }, take: 1 })
    )[0]!;
    await open(agent, e.host.url, '/staff/inbox/index');
    const item = agent.locator(`[data-inbox-id="${question.id}"]`);
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => item.innerText(), { timeout: 10_000 }).toMatch(/等待\d+秒/);
    await item.click();
    await agent.locator('[data-claim]').click();
    await expect.poll(() => item.innerText(), { timeout: 10_000 }).toContain('李客服 负责');
    // a standard reply (室温) filled in for this resident, then sent quoting the question
    await agent.locator('.reply-panel .canned-cats').first().getByText('室温', { exact: true }).click();
    await agent.locator('.canned-item', { hasText: '室温不达标' }).click();
    const reply = agent.locator('[data-reply] textarea');
    await expect.poll(() => reply.inputValue(), { timeout: 10_000 }).toContain('室温问题已收到');
    await reply.fill((await reply.inputValue()) + ' 今天下午安排师傅上门。');
    await shot(agent, 'inbox-reply');
    const framesBefore = residentFrames.length;
    await agent.locator('[data-send-reply]').click();

    // live on the resident's page: a staff bubble quoting the question, delivered by the socket
    const staffBubble = resident.locator('.messages .msg-staff');
    await expect.poll(() => staffBubble.count(), { timeout: 5_000 }).toBe(1);
    await expect.poll(() => staffBubble.innerText(), { timeout: 10_000 }).toContain('李客服');
    await expect.poll(() => staffBubble.innerText(), { timeout: 10_000 }).toContain('今天下午安排师傅上门。');
    await expect.poll(() => staffBubble.innerText(), { timeout: 10_000 }).toContain('卧室只有16度');
    expect(residentFrames.slice(framesBefore).some((f) => f.includes('"type":"message"') && f.includes('今天下午安排师傅上门'))).toBe(true);
    await shot(resident, 'group-answered');
    // answered: gone from 待回复
    await expect.poll(() => agent.locator(`[data-inbox-id="${question.id}"]`).count(), { timeout: 10_000 }).toBe(0);
  }, 90_000);

  it('the agent turns the photo message into a repair ticket; the resident gets the ticket number in the group', async () => {
    const photo = await lastResidentMessage();
    expect(photo.kind).toBe('image');
    await open(agent, e.host.url, '/staff/inbox/index');
    const item = agent.locator(`[data-inbox-id="${photo.id}"]`);
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    await item.locator('.row').first().click(); // (a tap on the photo opens the preview)
    await agent.locator('[data-repair-category="no_heat"]').click();
    await agent.locator('[data-to-repair-submit]').click();
    await expect
      .poll(async () => (await e.host.ds.getRepository(GroupMessage).findOneByOrFail({ id: photo.id })).repairTicketId, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const ticket = await e.host.services.repairs.listForResident(photo.senderId);
    const no = ticket.items[0]!.no;
    await expect.poll(() => resident.locator('.messages').innerText(), { timeout: 5_000 }).toContain(`工单号 ${no}`);
    expect(ticket.items[0]!.photos).toHaveLength(1);
    await shot(resident, 'group-repair-linked');
  }, 90_000);

  it('the resident subscribes to outage notices and is told exactly how many; risky text is refused and shows up in the agent’s moderation trail', async () => {
    await open(resident, e.host.url, '/pages/group/index');
    const notices = resident.locator('[data-subscribe-notices]');
    await expect.poll(() => notices.innerText(), { timeout: 10_000 }).toBe('接收停热通知');
    await notices.click();
    await expect.poll(() => notices.innerText(), { timeout: 10_000 }).toBe('已订阅 1 次停热通知');
    await notices.click();
    await expect.poll(() => notices.innerText(), { timeout: 10_000 }).toBe('已订阅 2 次停热通知');

    await resident.locator('.composer-input input').fill('这是违规测试内容');
    await resident.locator('[data-send]').click();
    await expect.poll(() => resident.locator('body').innerText(), { timeout: 10_000 }).toContain('内容未通过微信内容安全检测');
    await expect.poll(() => resident.locator('.composer-input input').inputValue(), { timeout: 10_000 }).toBe('这是违规测试内容');
    await expect.poll(() => resident.locator('.messages').innerText(), { timeout: 10_000 }).not.toContain('这是违规测试内容');

    await open(agent, e.host.url, '/staff/inbox/index');
    await agent.locator('[data-moderation-trail]').click();
    const refused = agent.locator('[data-verdict="risky"]', { hasText: '这是违规测试内容' });
    await expect.poll(() => refused.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => refused.innerText(), { timeout: 10_000 }).toContain('违规，已拦截');
    await shot(agent, 'moderation-trail');
  }, 90_000);

  // last: it ends the resident's session
  it('when the session ends elsewhere, the page stops the socket and goes to the login page', async () => {
    const ready = () => residentFrames.filter((f) => f.includes('"type":"ready"')).length;
    const readyBefore = ready();
    await open(resident, e.host.url, '/pages/group/index');
    await expect.poll(() => resident.locator('.group-title').innerText(), { timeout: 10_000 }).toContain('供热管家群');
    const sockets: string[] = [];
    resident.on('websocket', (ws) => sockets.push(ws.url()));
    // this page load's own socket is up (earlier tests' frames don't count)
    await expect.poll(ready, { timeout: 10_000 }).toBeGreaterThan(readyBefore);
    // every resident session is revoked (as a logout on another device would); the minute's re-check finds it
    await e.host.ds.getRepository(Session).update({ kind: 'resident', revokedAt: IsNull() }, { revokedAt: new Date() });
    await e.host.services.realtime.recheck();
    await expect.poll(() => resident.url(), { timeout: 10_000 }).toContain('/pages/login/index');
    // no reconnecting afterwards
    const opened = sockets.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(sockets.length).toBe(opened);
  }, 60_000);
});
