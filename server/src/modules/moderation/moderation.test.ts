/**
 * Content security of what residents post: msgSecCheck 2.0 before text is published,
 * mediaCheckAsync 2.0 for photos (审核中 until WeChat pushes its verdict to the message push
 * endpoint), the moderation trail staff see. The real BFF on loopback, the WeChat simulator
 * (which fetches the photo and pushes the signed verdict back), a real database.
 */
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { testAppForFile } from '../../test-support/app-for-file';
import { SANDBOX_REVIEW_TEXT, SANDBOX_RISKY_IMAGE, SANDBOX_RISKY_TEXT } from '../../sandbox';
import { decryptPush, encryptPush, openPush, pushSignature, PushRejected } from '../../wechat/push';
import { RepairTicket } from '../repairs/entities';

const t = testAppForFile();
let agent1: string;
let agent2: string;
beforeAll(async () => {
  agent1 = await t.loginStaff('agent1');
  agent2 = await t.loginStaff('agent2');
});

/** A resident bound to a household of demo building 2 (agent1's area), in its 管家群. */
const resident = () => t.residentOfBuilding(2);

// a 1×1 PNG; the risky one carries the simulator's marker in a text chunk (still a well-formed PNG)
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
function withText(png: Buffer, text: string): Buffer {
  const data = Buffer.from(`Comment\0${text}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]); // after IHDR
}
async function upload(token: string, risky = false): Promise<string> {
  const res = await t.upload(token, 'chat_photo', risky ? withText(PNG, SANDBOX_RISKY_IMAGE) : PNG);
  expect(res.status).toBe(201);
  return res.body.id;
}

const post = (token: string, groupId: number, body: Record<string, unknown>) => t.call('POST', `/api/v1/groups/${groupId}/messages`, { token, body });
const idsSeenBy = async (token: string, groupId: number) =>
  (await t.call('GET', `/api/v1/groups/${groupId}/messages?limit=50`, { token })).body.items.map((m: any) => m.id);
const staffView = async (groupId: number, id: number) =>
  (await t.call('GET', `/api/v1/staff/groups/${groupId}/messages?limit=50`, { token: agent1 })).body.items.find((m: any) => m.id === id);
const trail = async (token = agent1, flagged = false) =>
  (await t.call('GET', `/api/v1/staff/moderation?pageSize=100${flagged ? '&flagged=1' : ''}`, { token })).body;

describe('text residents post', () => {
  it('refuses risky text with a Chinese message and publishes nothing; the refusal is in the trail', async () => {
    const a = await resident();
    const res = await post(a.token, a.groupId, { text: `物业都是骗子${SANDBOX_RISKY_TEXT}` });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'CONTENT_RISKY', message: '内容未通过微信内容安全检测，请修改后再提交' });
    expect(
      (await t.call('GET', `/api/v1/groups/${a.groupId}/messages?limit=50`, { token: a.token })).body.items.some((m: any) => m.text?.includes('物业都是骗子')),
    ).toBe(false);
    const texts = t.sandbox!.state.security.textChecks.filter((c) => c.content.includes('物业都是骗子'));
    expect(texts).toMatchObject([{ scene: 3, suggest: 'risky' }]);
    const item = (await trail()).items.find((i: any) => i.content.includes('物业都是骗子'));
    expect(item).toMatchObject({
      kind: 'text',
      subjectType: 'group_message',
      subjectLabel: '管家群消息',
      subjectId: null,
      verdict: 'risky',
      verdictLabel: '违规，已拦截',
    });
  });

  it('publishes review text but flags it for staff', async () => {
    const a = await resident();
    const b = await resident();
    const res = await post(a.token, a.groupId, { text: `楼道暖气${SANDBOX_REVIEW_TEXT}不热` });
    expect(res.status).toBe(201);
    expect(await idsSeenBy(b.token, b.groupId)).toContain(res.body.id);
    expect((await staffView(a.groupId, res.body.id)).moderation).toBe('flagged');
    const item = (await trail(agent1, true)).items.find((i: any) => i.subjectId === res.body.id);
    expect(item).toMatchObject({ verdict: 'review', verdictLabel: '疑似，已标记' });
    // a clean message is not flagged
    const clean = await post(a.token, a.groupId, { text: '今天家里22度，谢谢管家' });
    expect((await staffView(a.groupId, clean.body.id)).moderation).toBeNull();
  });

  it('checks repair descriptions too (scene 1, before the ticket exists)', async () => {
    const a = await resident();
    const risky = await t.call('POST', '/api/v1/repairs', {
      token: a.token,
      body: { accountId: a.accountId, category: 'leak', description: `暖气漏水${SANDBOX_RISKY_TEXT}` },
    });
    expect(risky.status).toBe(422);
    expect(risky.body.error.code).toBe('CONTENT_RISKY');
    expect(await t.ds.getRepository(RepairTicket).countBy({ description: `暖气漏水${SANDBOX_RISKY_TEXT}` })).toBe(0);
    const ok = await t.call('POST', '/api/v1/repairs', {
      token: a.token,
      body: { accountId: a.accountId, category: 'leak', description: '卧室暖气片接口漏水' },
    });
    expect(ok.status).toBe(201);
    const checks = t.sandbox!.state.security.textChecks.filter((c) => c.content.startsWith('暖气漏水') || c.content === '卧室暖气片接口漏水');
    expect(checks.map((c) => [c.scene, c.suggest])).toEqual([
      [1, 'risky'],
      [1, 'pass'],
    ]);
  });
});

describe('photos residents post', () => {
  it('publishes a photo as 审核中 (only the sender sees it) until WeChat pushes pass', async () => {
    const a = await resident();
    const b = await resident();
    const key = await upload(a.token);
    const release = t.sandbox!.state.security.holdMediaChecks(); // WeChat is still checking
    const res = await post(a.token, a.groupId, { photo: key });
    expect(res.status).toBe(201);
    expect(res.body.moderation).toBe('pending');
    expect(await idsSeenBy(a.token, a.groupId)).toContain(res.body.id);
    expect(await idsSeenBy(b.token, b.groupId)).not.toContain(res.body.id);
    expect((await staffView(a.groupId, res.body.id)).moderation).toBe('pending');

    release();
    await t.sandbox!.state.security.settleMediaChecks();
    await t.services.outbox.drain(); // photo.checked reaches the message / ticket after commit
    // WeChat fetched the photo from the BFF and pushed a signed verdict, accepted with "success"
    const check = [...t.sandbox!.state.security.mediaChecks.values()].find((c) => c.mediaUrl.includes(`/uploads/${key}?`))!;
    expect(check).toMatchObject({ suggest: 'pass', pushes: [200], scene: 3 });
    expect(await idsSeenBy(b.token, b.groupId)).toContain(res.body.id);
    expect((await staffView(a.groupId, res.body.id)).moderation).toBeNull();
    const item = (await trail()).items.find((i: any) => i.kind === 'image' && i.subjectId === res.body.id);
    expect(item).toMatchObject({ verdict: 'pass', decidedAt: expect.any(String) });
    // staff see it through a signed link that opens
    expect(item.content).toMatch(new RegExp(`^/api/v1/uploads/${key}\\?exp=\\d+&sig=`));
    expect((await fetch(t.url + item.content)).status).toBe(200);
  });

  it('removes a photo WeChat finds risky, for everyone but staff, and takes it off a repair ticket', async () => {
    const a = await resident();
    const b = await resident();
    const key = await upload(a.token, true);
    const res = await post(a.token, a.groupId, { photo: key });
    await t.sandbox!.state.security.settleMediaChecks();
    await t.services.outbox.drain(); // photo.checked reaches the message / ticket after commit
    expect(await idsSeenBy(b.token, b.groupId)).not.toContain(res.body.id);
    expect(await idsSeenBy(a.token, a.groupId)).not.toContain(res.body.id);
    expect(await staffView(a.groupId, res.body.id)).toMatchObject({ hidden: true, hideReason: '图片未通过微信内容安全审核' });
    expect((await trail(agent1, true)).items.find((i: any) => i.kind === 'image' && i.subjectId === res.body.id)).toMatchObject({
      verdict: 'risky',
      label: 20003,
    });

    const good = await upload(a.token);
    const bad = await upload(a.token, true);
    const ticket = await t.call('POST', '/api/v1/repairs', {
      token: a.token,
      body: { accountId: a.accountId, category: 'leak', description: '厨房暖气漏水，见照片', photos: [good, bad] },
    });
    expect(ticket.status).toBe(201);
    await t.sandbox!.state.security.settleMediaChecks();
    await t.services.outbox.drain(); // photo.checked reaches the message / ticket after commit
    expect((await t.ds.getRepository(RepairTicket).findOneByOrFail({ id: ticket.body.id })).photos).toEqual([good]);
  });

  it('when WeChat cannot check, publishes text and photos flagged for staff instead of blocking residents', async () => {
    const a = await resident();
    const b = await resident();
    const key = await upload(a.token);
    t.sandbox!.state.security.unavailable = true;
    try {
      const text = await post(a.token, a.groupId, { text: '暖气阀门在哪里关？' });
      const photo = await post(a.token, a.groupId, { photo: key });
      expect([text.status, photo.status]).toEqual([201, 201]);
      await t.services.outbox.drain(); // photo.checked (error) reaches the message after commit
      expect(await idsSeenBy(b.token, b.groupId)).toEqual(expect.arrayContaining([text.body.id, photo.body.id]));
      expect((await staffView(a.groupId, text.body.id)).moderation).toBe('flagged');
      expect((await staffView(a.groupId, photo.body.id)).moderation).toBe('flagged');
      const items = (await trail(agent1, true)).items.filter((i: any) => i.subjectId === text.body.id || i.subjectId === photo.body.id);
      expect(items.map((i: any) => [i.kind, i.verdict, i.verdictLabel])).toEqual([
        ['image', 'error', '未能检测，已标记'],
        ['text', 'error', '未能检测，已标记'],
      ]);
      expect(items[0].detail).toContain('errcode -1');
    } finally {
      t.sandbox!.state.security.unavailable = false;
    }
  });

  it('the trail is scoped to the staff member’s areas', async () => {
    const mine = await trail(agent1);
    expect(mine.total).toBeGreaterThan(0);
    const other = await trail(agent2);
    expect(other.items.some((i: any) => mine.items.some((m: any) => m.id === i.id))).toBe(false);
    const a = await resident();
    expect((await t.call('GET', '/api/v1/staff/moderation', { token: a.token })).status).toBe(403);
  });
});

describe('the message push endpoint', () => {
  const token = () => t.config.WECHAT_PUSH_TOKEN;
  const signed = (extra: Record<string, string> = {}) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '12345';
    return new URLSearchParams({ timestamp, nonce, signature: pushSignature(token(), timestamp, nonce), ...extra });
  };

  it('answers the console’s URL check only with the right signature', async () => {
    const ok = await fetch(`${t.url}/api/v1/wechat/push?${signed({ echostr: 'echo-123' })}`);
    expect(await ok.text()).toBe('echo-123');
    const q = signed({ echostr: 'echo-123' });
    q.set('signature', 'f'.repeat(40));
    expect((await fetch(`${t.url}/api/v1/wechat/push?${q}`)).status).toBe(401);
  });

  it('refuses a forged verdict: a risky photo cannot be published by faking a pass', async () => {
    const a = await resident();
    const key = await upload(a.token, true);
    const res = await post(a.token, a.groupId, { photo: key });
    const traceId = [...t.sandbox!.state.security.mediaChecks.values()].find((c) => c.mediaUrl.includes(`/uploads/${key}?`))!.traceId;
    const forged = { Event: 'wxa_media_check', trace_id: traceId, result: { suggest: 'pass', label: 100 } };
    const q = signed();
    q.set('signature', pushSignature('wrong-token', q.get('timestamp')!, q.get('nonce')!));
    const r = await fetch(`${t.url}/api/v1/wechat/push?${q}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(r.status).toBe(401);
    await t.sandbox!.state.security.settleMediaChecks();
    await t.services.outbox.drain(); // photo.checked reaches the message / ticket after commit
    const b = await resident();
    expect(await idsSeenBy(b.token, b.groupId)).not.toContain(res.body.id);
    // a replayed genuine verdict changes nothing either (decided once)
    const replay = await fetch(`${t.url}/api/v1/wechat/push?${signed()}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(await replay.text()).toBe('success');
    expect(await idsSeenBy(b.token, b.groupId)).not.toContain(res.body.id);
  });

  it('safe mode: decrypts with the EncodingAESKey and checks msg_signature, appid and time', () => {
    const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    const cfg = { token: 'tok123', aesKey, appid: 'wxapp1' };
    const event = { Event: 'wxa_media_check', trace_id: 't-1', result: { suggest: 'pass' } };
    const encrypt = encryptPush(aesKey, 'wxapp1', JSON.stringify(event));
    expect(decryptPush(aesKey, encrypt)).toEqual({ message: JSON.stringify(event), appid: 'wxapp1' });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const q = { timestamp, nonce: 'n1', encrypt_type: 'aes', msg_signature: pushSignature('tok123', timestamp, 'n1', encrypt) };
    expect(openPush(cfg, q, { ToUserName: 'gh_x', Encrypt: encrypt })).toEqual(event);
    expect(() => openPush(cfg, { ...q, msg_signature: 'x'.repeat(40) }, { Encrypt: encrypt })).toThrow(PushRejected);
    expect(() => openPush({ ...cfg, appid: 'wxother' }, q, { Encrypt: encrypt })).toThrow(/another appid/);
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect(() => openPush(cfg, { ...q, timestamp: old, msg_signature: pushSignature('tok123', old, 'n1', encrypt) }, { Encrypt: encrypt })).toThrow(
      /timestamp/,
    );
  });
});
