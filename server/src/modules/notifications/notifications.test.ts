/**
 * Subscription messages end to end: the template ids come from configuration, the client reports
 * what the resident allowed, one grant allows one message, WeChat's refusals are recorded and
 * not retried. The real BFF on loopback, the WeChat simulator, a real database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTx } from '../../platform/db/data-source';
import { OutboxMessage } from '../../platform/entities';
import { loadConfig, ConfigError } from '../../config';
import { openidFor } from '../../sandbox';
import { startTestApp, type TestApp } from '../../test-support/app';
import { SUBSCRIBE_TOPIC } from './service';
import { pushSignature } from '../../wechat/push';

let t: TestApp;
let now = new Date('2026-11-20T02:00:00Z');
const tick = (s: number) => (now = new Date(now.getTime() + s * 1000));

beforeAll(async () => {
  t = await startTestApp({
    clock: () => now,
    config: { WECHAT_TPL_REPAIR_PROGRESS: 'Qx3-repairProgressTemplateFromConsole', WECHAT_MINIPROGRAM_STATE: 'trial' },
  });
});
afterAll(async () => t?.close());

async function resident(user: string) {
  const token = await t.loginResident(user);
  const me = await t.call('GET', '/api/v1/me', { token });
  return { token, user, residentId: me.body.id as number, openid: openidFor(t.config.WECHAT_APPID, user) };
}

/** Queue `n` repair-progress messages to a resident, like n state changes of a ticket. */
async function queue(residentId: number, n: number, data: Record<string, string> = {}) {
  await withTx(t.ds, async (em) => {
    for (let i = 0; i < n; i++) {
      await t.services.notifications.toResident(
        em,
        residentId,
        'repairProgress',
        { character_string1: `R2026112000${i}`, thing2: '维修师傅已出发', phrase3: '处理中', time4: '2026-11-20 10:00', ...data },
        { page: 'pages/repairs/index', dedupeKey: `test:${residentId}:${now.getTime()}:${i}`, now },
      );
    }
  });
}

const rowsOf = async (residentId: number) =>
  (await t.ds.getRepository(OutboxMessage).find({ where: { topic: SUBSCRIBE_TOPIC.name }, order: { id: 'ASC' } })).filter(
    (m) => (m.payload as any).residentId === residentId,
  );
const sentTo = (openid: string) => t.sandbox!.state.subscribeMessages.filter((m) => m.openid === openid);

describe('subscription messages', () => {
  it('serves the configured template ids to the client, never placeholders', async () => {
    const res = await t.call('GET', '/api/v1/notifications/templates');
    expect(res.status).toBe(200);
    expect(res.body.templates.repairProgress).toBe('Qx3-repairProgressTemplateFromConsole');
    expect(Object.keys(res.body.templates).sort()).toEqual([
      'announcement',
      'complaintProgress',
      'invoiceIssued',
      'paymentSuccess',
      'refund',
      'repairProgress',
      'serviceChangeProgress',
    ]);
    for (const id of Object.values(res.body.templates)) expect(id).not.toMatch(/^TPL_/);
    // the simulated WeChat knows only the templates the company applied for
    const unknown = await t.call('POST', '/sandbox/device/subscribe', { body: { user: 'x', tmplIds: ['TPL_REPAIR_PROGRESS'] } });
    expect(unknown.body).toMatchObject({ errCode: 20001 });
  });

  it('refuses sandbox template ids in production mode', () => {
    const env = { HB_MODE: 'production', WECHAT_TPL_PAYMENT_SUCCESS: 'real-id-1' };
    let err: unknown;
    try {
      loadConfig(env as any);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain('WECHAT_TPL_REFUND');
    expect(String((err as Error).message)).not.toContain('WECHAT_TPL_PAYMENT_SUCCESS');
  });

  it('one accepted grant sends one message; later state changes are not sent and not retried', async () => {
    const r = await resident('grant-once');
    const counts = await t.allowMessages(r.token, r.user, ['repairProgress']);
    expect(counts).toMatchObject({ counts: { repairProgress: 1, announcement: 0 }, accepted: ['repairProgress'] });
    await queue(r.residentId, 3);
    await t.services.outbox.drain();
    // WeChat was asked once (no 43101 spam) and the resident got one message, for the trial version
    expect(sentTo(r.openid).map((m) => [m.errcode, m.state])).toEqual([[0, 'trial']]);
    const rows = await rowsOf(r.residentId);
    expect(rows.map((m) => m.status)).toEqual(['done', 'dead', 'dead']);
    expect(rows[1]!.lastError).toContain('no subscription grant');
    expect((await t.call('GET', '/api/v1/notifications/grants', { token: r.token })).body.counts.repairProgress).toBe(0);
    tick(3600);
    await t.services.outbox.drain();
    expect((await rowsOf(r.residentId)).map((m) => m.attempts)).toEqual([1, 1, 1]);

    // two taps on 允许 = two messages
    await t.allowMessages(r.token, r.user, ['repairProgress']);
    await t.allowMessages(r.token, r.user, ['repairProgress']);
    tick(1);
    await queue(r.residentId, 3);
    await t.services.outbox.drain();
    expect(sentTo(r.openid).filter((m) => m.errcode === 0)).toHaveLength(3);
  });

  it('a rejection in the dialog grants nothing', async () => {
    const r = await resident('grant-reject');
    const res = await t.allowMessages(r.token, r.user, ['repairProgress', 'announcement'], 'reject');
    expect(res).toMatchObject({ counts: { repairProgress: 0, announcement: 0 }, accepted: [] });
  });

  it('records WeChat’s 43101 on the outbox row, forgets the grant and does not retry', async () => {
    const r = await resident('grant-stale');
    // the client reports an accept WeChat does not know (e.g. the resident switched messages off since)
    await t.call('POST', '/api/v1/notifications/grants', {
      token: r.token,
      body: { results: { [t.services.notifications.templateId('repairProgress')]: 'accept', errMsg: 'requestSubscribeMessage:ok' } },
    });
    tick(1);
    await queue(r.residentId, 1);
    await t.services.outbox.drain();
    const [row] = await rowsOf(r.residentId);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).toContain('43101');
    expect(sentTo(r.openid).map((m) => m.errcode)).toEqual([43101]);
    expect((await t.call('GET', '/api/v1/notifications/grants', { token: r.token })).body.counts.repairProgress).toBe(0);
    tick(3600);
    await t.services.outbox.drain();
    expect(sentTo(r.openid)).toHaveLength(1);
  });

  it('records 47003 (bad data) without retrying, and keeps the grant for the next message', async () => {
    const r = await resident('grant-baddata');
    await t.allowMessages(r.token, r.user, ['repairProgress']);
    tick(1);
    await queue(r.residentId, 1, { thing2: '这段处理说明远远超过了微信规定的二十个字的上限' });
    await t.services.outbox.drain();
    const [row] = await rowsOf(r.residentId);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).toContain('47003');
    expect((await t.call('GET', '/api/v1/notifications/grants', { token: r.token })).body.counts.repairProgress).toBe(1);
    tick(1);
    await queue(r.residentId, 1);
    await t.services.outbox.drain();
    expect(sentTo(r.openid).map((m) => m.errcode)).toEqual([47003, 0]);
  });

  it('only residents report grants, and unknown template ids are ignored', async () => {
    expect((await t.call('POST', '/api/v1/notifications/grants', { body: { results: {} } })).status).toBe(401);
    const r = await resident('grant-unknown');
    const res = await t.call('POST', '/api/v1/notifications/grants', { token: r.token, body: { results: { 'not-ours': 'accept' } } });
    expect(res.body.accepted).toEqual([]);
  });

  it('forgets the grants of a template the resident switches off in WeChat (subscribe_msg_change_event push)', async () => {
    const r = await resident('grant-switched-off');
    await t.allowMessages(r.token, r.user, ['repairProgress', 'announcement']);
    await t.allowMessages(r.token, r.user, ['repairProgress']);
    const event = {
      ToUserName: 'gh_x',
      FromUserName: r.openid,
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: 'subscribe_msg_change_event',
      List: [{ TemplateId: t.services.notifications.templateId('repairProgress'), SubscribeStatusString: 'reject' }],
    };
    const timestamp = String(Math.floor(Date.now() / 1000));
    const q = new URLSearchParams({ timestamp, nonce: '42', signature: pushSignature(t.config.WECHAT_PUSH_TOKEN, timestamp, '42') });
    // unsigned: ignored
    const forged = await fetch(`${t.url}/api/v1/wechat/push?timestamp=${timestamp}&nonce=42&signature=${'0'.repeat(40)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(forged.status).toBe(401);
    expect((await t.call('GET', '/api/v1/notifications/grants', { token: r.token })).body.counts).toMatchObject({ repairProgress: 2, announcement: 1 });
    const res = await fetch(`${t.url}/api/v1/wechat/push?${q}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(await res.text()).toBe('success');
    expect((await t.call('GET', '/api/v1/notifications/grants', { token: r.token })).body.counts).toMatchObject({ repairProgress: 0, announcement: 1 });
  });
});
