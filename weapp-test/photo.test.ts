/**
 * Photos in the compiled WeChat build (dist/weapp) against the real BFF: a resident adds a photo
 * to a repair (chooseMedia → compressImage → a multipart uploadFile with its purpose) and the page
 * shows it by its signed link; a photo still too large after compression is not sent and a dialog
 * says so (the harness's compressImage keeps the file as it is).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, TEST_PNG, type TestApp } from '../server/src/test-support/app';
import { DEMO } from '../server/src/demo/seed';
import { Upload } from '../server/src/platform/uploads/entities';
import { WEAPP_DIR, ensureWeappBuild } from './build';
import { Weapp } from './harness';

let app: TestApp;
let dir: string;
beforeAll(async () => {
  ensureWeappBuild();
  app = await startTestApp({ seedDemo: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weapp-photos-'));
}, 120_000);
afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('a repair photo goes up as multipart and shows by its signed link; a too-large one ends in a dialog', async () => {
  const token = await app.loginResident('weapp-photo');
  const acc = DEMO.accounts[11]!;
  expect((await app.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, ownerName: acc.ownerName } })).status).toBe(201);
  const w = new Weapp({ dist: WEAPP_DIR, server: app.url, wechatUser: 'weapp-photo', storage: { 'hb.token': token, 'hb.kind': 'resident' } });
  w.start();
  try {
    await w.open('pages/repairs/new');
    const add = () => w.clickables().find((c) => c.text === '＋');
    expect(add(), JSON.stringify(w.clickables().map((c) => c.text))).toBeDefined();

    const small = path.join(dir, 'leak.png');
    fs.writeFileSync(small, TEST_PNG);
    w.photos.push(small);
    await w.tap(add()!.sid);
    await expect.poll(() => JSON.stringify(w.current?.data ?? {}), { timeout: 10_000 }).toMatch(/\/api\/v1\/uploads\/up_[a-f0-9]{32}\?exp=\d+&sig=[\w-]+/);
    expect(w.calls.get('chooseMedia')).toBe(1);
    expect(w.calls.get('chooseImage')).toBeUndefined();
    expect(w.calls.get('compressImage')).toBe(1);
    expect(w.calls.get('uploadFile')).toBe(1);
    const key = /up_[a-f0-9]{32}/.exec(JSON.stringify(w.current!.data))![0];
    expect(await app.ds.getRepository(Upload).findOneByOrFail({ key })).toMatchObject({ purpose: 'repair_photo', ownerKind: 'resident', mime: 'image/png' });

    const big = path.join(dir, 'huge.jpg');
    fs.writeFileSync(big, Buffer.alloc(Math.round(2.5 * 1024 * 1024), 1));
    w.photos.push(big);
    await w.tap(add()!.sid);
    await expect
      .poll(() => w.modals.at(-1), { timeout: 10_000 })
      .toMatchObject({ title: '照片太大', content: expect.stringContaining('这张照片压缩后仍有2.5MB，超过2.0MB的上限，没有上传') });
    expect(w.calls.get('uploadFile')).toBe(1);
    expect(w.errors()).toEqual([]);
  } finally {
    await w.close();
  }
}, 60_000);
