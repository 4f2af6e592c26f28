/**
 * What the BFF writes to its log while residents log in, bind (with their phone's last four),
 * pay, upload a photo, and staff log in: no token, phone number, password or upload key in clear.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test-support/app';
import { createLogger } from './logger';
import { DEMO, demoHouseholds } from '../demo/seed';

const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, logger: createLogger('debug', { write: (line: string) => void lines.push(line) }) });
});
afterAll(async () => t?.close());

it('never logs tokens, phone numbers, passwords or upload keys in clear, but does log each request', async () => {
  const acc = DEMO.accounts[0]!;
  const phone = demoHouseholds().find((h) => h.accountNo === acc.accountNo)!.contactPhone;
  const token = await t.loginResident('log-watcher');
  const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, phoneLast4: acc.phoneLast4 } });
  expect(bound.status).toBe(201);
  const accounts = await t.call('GET', '/api/v1/accounts', { token, headers: { 'X-Request-Id': 'log-test-request-1' } });
  const upload = await t.upload(token, 'repair_photo');
  expect(upload.status).toBe(201);
  expect((await fetch(t.url + upload.body.url)).status).toBe(200);
  const staff = await t.loginStaff('agent1');
  await t.call('GET', '/api/v1/staff/accounts?q=' + acc.accountNo, { token: staff });

  const log = lines.join('');
  expect(log).toContain('"reqId":"log-test-request-1"');
  // the access line counts the answer's bytes: its Content-Length, the UTF-8 of its JSON (Chinese addresses)
  const line = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'log-test-request-1' && l.msg === 'request');
  expect(JSON.stringify(accounts.body)).toMatch(/[\u4e00-\u9fff]/);
  expect(line.bytes).toBe(Buffer.byteLength(JSON.stringify(accounts.body)));
  expect(accounts.headers.get('content-length')).toBe(String(line.bytes));
  expect(log).toContain('"path":"/api/v1/uploads/:key"');
  for (const secret of [token, staff, phone, 'demo-2026', upload.body.id, /sig=([\w-]+)/.exec(upload.body.url)![1]!]) expect(log).not.toContain(secret);
});

it('logs an unhandled database error by its code, without the SQL or the values it carried', async () => {
  const staff = await t.loginStaff('agent1');
  const searched = '周某某-7Q3Z';
  // make the next account search fail inside the database, like any unexpected SQL error
  await t.ds.query('ALTER TABLE account RENAME TO account_gone');
  lines.length = 0;
  try {
    const res = await t.call('GET', '/api/v1/staff/accounts?q=' + encodeURIComponent(searched), { token: staff });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
  } finally {
    await t.ds.query('ALTER TABLE account_gone RENAME TO account');
  }
  const entry = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
  expect(entry).toBeDefined();
  expect(entry.error.code).toMatch(/^(ER_NO_SUCH_TABLE|SQLITE_ERROR)$/);
  expect(entry.stack).toContain('at ');
  const log = lines.join('');
  expect(log).not.toContain(searched);
  expect(log).not.toMatch(/\bSELECT\b|\bFROM\b|"query"|"parameters"|account_gone/);
});
