import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { SubscribeTemplate } from '@heat-butler/shared';
import { demoHouseholds } from '../demo/seed';
import { startHost, type Host, type HostOptions } from '../host';
import { createLogger } from '../platform/logger';
import { createTestDatabase, type TestDatabase } from './db';
import { refuseStampsFromDatabaseClock } from './clock-stamps';

export interface TestApp extends Host {
  db: TestDatabase;
  /** fetch against the app with JSON in and out */
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** a resident logged in through the sandbox's WeChat login */
  loginResident(user?: string): Promise<string>;
  loginStaff(username: string, password?: string): Promise<string>;
  /** a new resident (WeChat user `user`, else a random one) who has bound `account` */
  residentWith(account: { accountNo: string; ownerName: string }, user?: string): Promise<{ token: string; user: string; accountId: number }>;
  /**
   * a new resident who has bound the next active demo household of `building` that no earlier
   * call of this app took, with the building group they see
   */
  residentOfBuilding(building: number, user?: string): Promise<{ token: string; user: string; accountId: number; groupId: number }>;
  /** POST /api/v1/uploads as multipart/form-data (a 1×1 PNG unless other bytes are given) */
  upload(
    token: string | undefined,
    purpose: string,
    bytes?: Buffer,
    opts?: { mime?: string; filename?: string },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /**
   * The resident taps 允许 in wx.requestSubscribeMessage for these templates (the simulated
   * WeChat records the grants) and the client reports it to the BFF, like the mini-program does.
   */
  allowMessages(
    token: string,
    user: string,
    templates: SubscribeTemplate[],
    decision?: 'accept' | 'reject',
  ): Promise<{ counts: Record<SubscribeTemplate, number> }>;
}

/** a real 1×1 PNG */
export const TEST_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** A response as the tests read it: status, JSON body (or the text when it isn't JSON), headers. */
async function answer(res: Response): Promise<{ status: number; body: any; headers: Headers }> {
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The real app on 127.0.0.1:<ephemeral>, with the sandbox mounted and a database of its own. */
export async function startTestApp(opts: HostOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  // photos go to a folder of this test app, never the project's data/uploads
  const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-test-uploads-'));
  const host = await startHost({
    port: 0,
    sandbox: true,
    synchronize: true,
    outboxWorker: false,
    databaseUrl: db.url,
    sqlitePath: db.url ? undefined : ':memory:',
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...opts,
    config: { UPLOAD_DIR: uploadDir, ...opts.config },
  }).catch(async (err) => {
    // no app to close: its database and folder would outlive the failed test run
    await db.drop();
    fs.rmSync(uploadDir, { recursive: true, force: true });
    throw err;
  });
  refuseStampsFromDatabaseClock(host.ds);
  const call: TestApp['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    const res = await fetch(host.url + path, { method, headers, body });
    return answer(res);
  };
  const loginResident: TestApp['loginResident'] = async (user = 'resident-' + Math.random().toString(36).slice(2)) => {
    const dev = await call('POST', '/sandbox/device/login', { body: { user } });
    const res = await call('POST', '/api/v1/auth/wechat', { body: { code: dev.body.code } });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token;
  };
  const residentWith: TestApp['residentWith'] = async (account, user = 'resident-' + crypto.randomUUID().slice(0, 8)) => {
    const token = await loginResident(user);
    const res = await call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } });
    if (res.status !== 201) throw new Error(`bind ${account.accountNo} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { token, user, accountId: res.body.accountId as number };
  };
  const households = demoHouseholds();
  const taken = new Set<string>();
  return {
    ...host,
    db,
    call,
    loginResident,
    residentWith,
    async residentOfBuilding(building, user) {
      const h = households.find((x) => x.building === building && x.status === 'active' && !taken.has(x.accountNo));
      if (!h) throw new Error(`no active demo household of building ${building} left`);
      taken.add(h.accountNo);
      const r = await residentWith(h, user);
      const groups = await call('GET', '/api/v1/groups', { token: r.token });
      return { ...r, groupId: groups.body.items[0].id as number };
    },
    async allowMessages(token, user, templates, decision = 'accept') {
      const ids = templates.map((k) => host.services.notifications.templateId(k));
      const dev = await call('POST', '/sandbox/device/subscribe', { body: { user, tmplIds: ids, decision } });
      if (dev.status !== 200) throw new Error(`requestSubscribeMessage failed: ${JSON.stringify(dev.body)}`);
      const res = await call('POST', '/api/v1/notifications/grants', { token, body: { results: dev.body } });
      if (res.status !== 200) throw new Error(`grant report failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async loginStaff(username, password = 'demo-2026') {
      const res = await call('POST', '/api/v1/auth/staff/login', { body: { username, password } });
      if (res.status !== 200) throw new Error(`staff login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async upload(token, purpose, bytes = TEST_PNG, o = {}) {
      const form = new FormData();
      form.append('purpose', purpose);
      form.append('file', new Blob([new Uint8Array(bytes)], { type: o.mime ?? 'image/png' }), o.filename ?? 'photo.png');
      const res = await fetch(host.url + '/api/v1/uploads', { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {}, body: form });
      return answer(res);
    },
    async close() {
      await host.close();
      await db.drop();
      fs.rmSync(uploadDir, { recursive: true, force: true });
    },
  };
}
