/**
 * The H5 app under its Content-Security-Policy in Chromium: pages work (login, bind, bills, a
 * staff page) and the browser reports no violation; every answer carries the security headers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { open, residentWithAccount, staffWithPassword, startE2E, type E2E } from './support/browser';
import { DEMO } from '../server/src/demo/seed';

let e: E2E;
let page: Page;
const violations: string[] = [];

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
  // every CSP violation the browser reports, from the first script on
  await page.exposeFunction('__reportCsp', (v: string) => void violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (ev) => {
      (window as any).__reportCsp(`${ev.violatedDirective} blocked ${ev.blockedURI || 'inline'} (${ev.sourceFile}:${ev.lineNumber})`);
    });
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });
}, 180_000);
afterAll(async () => e?.close());

it('serves the H5 page with the page set, and the API with the API set', async () => {
  // the page set: a CSP the H5 build runs under (its inline script by hash)
  for (const p of ['/', '/index.html', '/healthz']) {
    const res = await fetch(e.host.url + p);
    expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
    expect(res.headers.get('content-security-policy'), p).toMatch(/default-src 'self'/);
    expect(res.headers.get('content-security-policy'), p).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(res.headers.get('x-frame-options'), p).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy'), p).toBe('no-referrer');
  }
  // the API set (OWASP REST): loads nothing, framed nowhere, cached nowhere; on answers and errors alike
  const { token } = await e.host.services.identity.loginStaff('agent1', 'demo-2026');
  for (const [p, status, headers] of [
    ['/api/v1/me', 401, {}],
    ['/api/v1/no-such-route', 404, {}],
    ['/api/v1/company', 200, {}],
    ['/api/v1/me', 200, { authorization: `Bearer ${token}` }],
  ] as const) {
    const res = await fetch(e.host.url + p, { headers });
    expect(res.status, p).toBe(status);
    expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
    expect(res.headers.get('content-security-policy'), p).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options'), p).toBe('DENY');
    expect(res.headers.get('referrer-policy'), p).toBe('no-referrer');
    expect(res.headers.get('cross-origin-resource-policy'), p).toBe('same-origin');
    expect(res.headers.get('cache-control'), p).toBe('no-store');
  }
  // the WeChat simulator mounted beside it too
  expect((await fetch(e.host.url + '/sandbox/no-such-thing')).headers.get('x-content-type-options')).toBe('nosniff');
  // never on plain http (the sandbox)
  expect((await fetch(e.host.url + '/')).headers.get('strict-transport-security')).toBeNull();
  expect((await fetch(e.host.url + '/api/v1/company')).headers.get('strict-transport-security')).toBeNull();
});

it('a resident logs in, binds an account and opens the bills under the CSP, and nothing is blocked', async () => {
  const account = DEMO.accounts[1]!;
  await residentWithAccount(page, e.host.url, 'csp-resident', account);
  await expect.poll(() => page.locator(`[data-account-no="${account.accountNo}"]`).count()).toBe(1);
  await open(page, e.host.url, '/pages/bills/index');
  await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toMatch(/账单|缴费/);
  await open(page, e.host.url, '/pages/mine/index');
  await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toContain('已绑定 1 个户号');
  await expect.poll(() => violations.slice()).toEqual([]);
});

it('a staff member logs in and sees the staff home under the CSP, and nothing is blocked', async () => {
  await staffWithPassword(page, e.host.url, 'agent1');
  await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toMatch(/\S/);
  await expect.poll(() => violations.slice()).toEqual([]);
});
