/**
 * Uploads as a platform piece: content checked over the whole file, multipart with a size limit
 * from config, the folder from config, signed short-lived links with nosniff, retention.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';
import { Company } from '../../modules/company/entities';
import { checkImage } from './image-check';
import { JPEG_4X3, PNG_1X1, WEBP_LOSSLESS_4X3, WEBP_LOSSY_4X3 } from './fixtures';
import { Upload } from './entities';

const HTML = Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>');
/** the 8-byte PNG signature and a plausible IHDR, then HTML */
const PNG_THEN_HTML = Buffer.concat([PNG_1X1.subarray(0, 33), HTML]);

describe('what a file really is (pure)', () => {
  it('accepts complete JPEG, PNG and WebP (lossy and lossless) with their sizes', () => {
    expect(checkImage(PNG_1X1)).toMatchObject({ mime: 'image/png', width: 1, height: 1 });
    expect(checkImage(JPEG_4X3)).toMatchObject({ mime: 'image/jpeg', width: 4, height: 3 });
    expect(checkImage(WEBP_LOSSY_4X3)).toMatchObject({ mime: 'image/webp', width: 4, height: 3 });
    expect(checkImage(WEBP_LOSSLESS_4X3)).toMatchObject({ mime: 'image/webp', width: 4, height: 3 });
  });

  it('refuses a PNG header followed by HTML, HTML after a whole PNG, a corrupted chunk, truncations and other formats', () => {
    expect(checkImage(PNG_THEN_HTML)).toBeNull();
    expect(checkImage(Buffer.concat([PNG_1X1, HTML]))).toBeNull();
    const flipped = Buffer.from(PNG_1X1);
    flipped[40] = flipped[40]! ^ 0xff; // inside IDAT: the CRC no longer matches
    expect(checkImage(flipped)).toBeNull();
    expect(checkImage(PNG_1X1.subarray(0, PNG_1X1.length - 12))).toBeNull(); // no IEND
    expect(checkImage(JPEG_4X3.subarray(0, JPEG_4X3.length - 2))).toBeNull(); // no EOI
    expect(checkImage(Buffer.concat([JPEG_4X3.subarray(0, 20), HTML]))).toBeNull();
    expect(checkImage(Buffer.concat([WEBP_LOSSY_4X3, Buffer.from('<a>')]))).toBeNull(); // RIFF size no longer matches
    expect(checkImage(HTML)).toBeNull();
    expect(checkImage(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))).toBeNull();
    expect(checkImage(Buffer.alloc(0))).toBeNull();
  });

  it('keeps a JPEG only up to its end marker: a trailer after it is never stored', () => {
    const checked = checkImage(Buffer.concat([JPEG_4X3, HTML]))!;
    expect(checked.mime).toBe('image/jpeg');
    expect(checked.bytes.equals(JPEG_4X3)).toBe(true);
  });
});

describe('uploading and fetching over HTTP', () => {
  let t: TestApp;
  let now = new Date();
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-uploads-'));
    t = await startTestApp({
      seedDemo: true,
      clock: () => now,
      config: { UPLOAD_DIR: dir, UPLOAD_MAX_KB: 64, HB_LIMITS: { 'upload.resident': { max: 12, windowMinutes: 24 * 60 } } },
    });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores a multipart photo in the configured folder, with owner and purpose', async () => {
    const token = await t.loginResident('up-owner');
    const res = await t.upload(token, 'repair_photo', JPEG_4X3, { mime: 'image/jpeg', filename: 'a.jpg' });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^up_[a-f0-9]{32}$/);
    expect(res.body.url).toMatch(new RegExp(`^/api/v1/uploads/${res.body.id}\\?exp=\\d+&sig=[\\w-]+$`));
    expect(fs.readFileSync(path.join(dir, res.body.id)).equals(JPEG_4X3)).toBe(true);
    expect(fs.existsSync(path.join(process.cwd(), 'data', 'uploads', res.body.id))).toBe(false);
    const row = await t.ds.getRepository(Upload).findOneByOrFail({ key: res.body.id });
    expect(row).toMatchObject({ mime: 'image/jpeg', ownerKind: 'resident', purpose: 'repair_photo', attachedAt: null });
  });

  it('serves it only by a valid, unexpired signed link, with its content type and nosniff', async () => {
    now = new Date();
    const token = await t.loginResident('up-fetch');
    const up = (await t.upload(token, 'chat_photo', WEBP_LOSSY_4X3, { mime: 'image/webp' })).body;
    const ok = await fetch(t.url + up.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await ok.arrayBuffer()).equals(WEBP_LOSSY_4X3)).toBe(true);

    // the bare key (what used to be enough), anonymous or logged in, is refused
    for (const headers of [{}, { Authorization: `Bearer ${token}` }] as Record<string, string>[]) {
      const bare = await fetch(`${t.url}/api/v1/uploads/${up.id}`, { headers });
      expect(bare.status).toBe(403);
      expect(bare.headers.get('x-content-type-options')).toBe('nosniff');
      expect(((await bare.json()) as any).error).toMatchObject({ code: 'UPLOAD_LINK_EXPIRED', message: '图片链接已失效，请刷新页面后重试' });
    }
    // a link of one photo doesn't open another
    const other = (await t.upload(token, 'chat_photo')).body;
    const swapped = up.url.replace(up.id, other.id);
    expect((await fetch(t.url + swapped)).status).toBe(403);
    // a longer expiry with the old signature
    const exp = Number(/exp=(\d+)/.exec(up.url)![1]);
    expect((await fetch(t.url + up.url.replace(`exp=${exp}`, `exp=${exp + 86_400}`))).status).toBe(403);

    // 20 minutes later the link has expired
    now = new Date(now.getTime() + 21 * 60_000);
    const expired = await fetch(t.url + up.url);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as any).error.code).toBe('UPLOAD_LINK_EXPIRED');
    now = new Date();
  });

  it('refuses a PNG header followed by HTML and stores nothing', async () => {
    const token = await t.loginResident('up-html');
    const before = fs.readdirSync(dir).length;
    const rows = await t.ds.getRepository(Upload).count();
    for (const bytes of [PNG_THEN_HTML, Buffer.concat([PNG_1X1, HTML]), HTML]) {
      const res = await t.upload(token, 'repair_photo', bytes, { mime: 'image/png', filename: 'x.png' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'UPLOAD_INVALID', message: '图片格式不正确，请上传 JPG、PNG 或 WEBP 照片' });
    }
    expect(fs.readdirSync(dir).length).toBe(before);
    expect(await t.ds.getRepository(Upload).count()).toBe(rows);
  });

  it('refuses a photo above UPLOAD_MAX_KB with 413 and a message a resident understands', async () => {
    const token = await t.loginResident('up-big');
    // a valid PNG made large by a private ancillary chunk (65 KB > the 64 KB configured here)
    const big = pngWithPadding(65 * 1024);
    const res = await t.upload(token, 'repair_photo', big);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'UPLOAD_TOO_LARGE', message: '照片太大，请换一张较小的照片或裁剪后再上传', details: { maxBytes: 64 * 1024 } });
    // just under the limit is fine
    expect((await t.upload(token, 'repair_photo', pngWithPadding(60 * 1024))).status).toBe(201);
  });

  it('answers who may upload what: no login → 401, residents not for crew photos, JSON base64 no longer', async () => {
    expect((await t.upload(undefined, 'repair_photo')).status).toBe(401);
    const token = await t.loginResident('up-roles');
    const crew = await t.upload(token, 'valve_photo');
    expect(crew.status).toBe(403);
    const noPurpose = await t.upload(token, 'selfie');
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body.error.details.fields[0]).toMatchObject({ field: 'purpose', message: '请说明照片用途' });
    const json = await t.call('POST', '/api/v1/uploads', { token, body: { dataUrl: 'data:image/png;base64,' + PNG_1X1.toString('base64') } });
    expect(json.status).toBe(400);
    const station = await t.loginStaff('station1');
    expect((await t.upload(station, 'valve_photo')).status).toBe(201);
  });

  it('counts a resident’s photos against the daily quota: over it, 429 with Retry-After and a Chinese message', async () => {
    const token = await t.loginResident('up-quota');
    for (let i = 0; i < 12; i++) expect((await t.upload(token, 'repair_photo')).status).toBe(201);
    const over = await t.upload(token, 'repair_photo');
    expect(over.status).toBe(429);
    expect(over.body.error.message).toContain('上传图片数量已达上限');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    // another resident is not affected
    expect((await t.upload(await t.loginResident('up-quota-2'), 'repair_photo')).status).toBe(201);
  });

  it('lets a module use only the owner’s own uploads of the right purpose', async () => {
    const a = await t.loginResident('up-claim-a');
    const b = await t.loginResident('up-claim-b');
    const aChat = (await t.upload(a, 'chat_photo')).body.id;
    const aId = (await t.upload(a, 'id_document')).body.id;
    const owner = async (token: string) => (await t.services.identity.resolveToken(token)) as { residentId: number };
    const ra = await owner(a);
    const rb = await owner(b);
    await expect(t.services.uploads.claim([aChat], { kind: 'resident', id: rb.residentId }, ['chat_photo'])).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    // an ID document can't be posted to the building's group
    await expect(t.services.uploads.claim([aId], { kind: 'resident', id: ra.residentId }, ['chat_photo'])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await t.services.uploads.claim([aChat], { kind: 'resident', id: ra.residentId }, ['chat_photo']);
    expect((await t.ds.getRepository(Upload).findOneByOrFail({ key: aChat })).attachedAt).not.toBeNull();
  });

  it('takes no outside image URL where a photo goes: only the sender’s own uploads (no third-party pixels)', async () => {
    const acc = DEMO.accounts[0]!;
    const token = await t.loginResident('up-outside');
    const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, ownerName: acc.ownerName } });
    expect(bound.status).toBe(201);
    const pixel = 'https://tracker.example.com/pixel.png';
    const groupId = (await t.call('GET', '/api/v1/groups', { token })).body.items[0].id;
    const chat = await t.call('POST', `/api/v1/groups/${groupId}/messages`, { token, body: { photo: pixel } });
    expect(chat.status).toBe(400);
    expect(chat.body.error.details.fields).toEqual([{ field: 'photo', message: '只能发送在本平台上传的图片' }]);
    const repair = await t.call('POST', '/api/v1/repairs', {
      token,
      body: { accountId: bound.body.accountId, category: 'valve', description: '阀门拧不动了', photos: [pixel] },
    });
    expect(repair.status).toBe(400);
    const change = await t.call('POST', '/api/v1/service-changes', {
      token,
      body: { accountId: bound.body.accountId, season: '2027-2028', kind: 'stop', documents: [{ kind: 'id_photo', url: pixel }] },
    });
    expect(change.status).toBe(400);
    expect(change.body.error.details.fields[0].field).toBe('documents.0.url');
  });

  it('the retention job deletes files and rows of photos past the company rule, ID documents by their own rule, and orphans', async () => {
    now = new Date();
    const company = await t.ds.getRepository(Company).findOneOrFail({ where: {}, order: { id: 'ASC' } });
    company.rules = { ...(company.rules ?? {}), retention: { photoDays: 30, documentDays: 10 } } as any;
    await t.ds.getRepository(Company).save(company);
    const token = await t.loginResident('up-retention');
    const make = async (purpose: string, ageDays: number, attached = true) => {
      const id = (await t.upload(token, purpose)).body.id as string;
      const at = new Date(now.getTime() - ageDays * 86_400_000);
      await t.ds.getRepository(Upload).update({ key: id }, { createdAt: at, attachedAt: attached ? at : null });
      return id;
    };
    const oldPhoto = await make('repair_photo', 31);
    const keptPhoto = await make('chat_photo', 29);
    const oldId = await make('id_document', 11);
    const keptId = await make('id_document', 9);
    const orphan = await make('repair_photo', 2, false);
    const fresh = await make('repair_photo', 0, false);
    const res = await t.services.uploads.enforceRetention();
    expect(res.deleted).toBeGreaterThanOrEqual(3);
    for (const gone of [oldPhoto, oldId, orphan]) {
      expect(await t.ds.getRepository(Upload).findOneBy({ key: gone })).toBeNull();
      expect(fs.existsSync(path.join(dir, gone))).toBe(false);
    }
    for (const kept of [keptPhoto, keptId, fresh]) {
      expect(await t.ds.getRepository(Upload).findOneBy({ key: kept })).not.toBeNull();
      expect(fs.existsSync(path.join(dir, kept))).toBe(true);
    }
    // a view built before the deletion: its link now answers 404, not a stale photo
    const link = t.services.uploads.link(oldPhoto);
    expect((await fetch(t.url + link)).status).toBe(404);
  });
});

/** A valid PNG of about `size` bytes: the 1×1 image with a private chunk of padding after IHDR. */
function pngWithPadding(size: number): Buffer {
  const data = Buffer.alloc(size, 0x20);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('paDd', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([PNG_1X1.subarray(0, 33), chunk, PNG_1X1.subarray(33)]);
}
