/**
 * The client functions generated from the route descriptors: each puts the path's parameters into
 * the path (encoded), the body and the query where the descriptor says, and a file route gives
 * the path to download. Runs the real client with a stub `Taro.request` that records the calls.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => {
  const calls: { method: string; url: string; data: unknown }[] = [];
  /** the next answers to give (default: 200 {ok:true}) */
  const answers: { statusCode: number; data: unknown }[] = [];
  const taro = {
    request: async (o: { url: string; method: string; data?: unknown }) => {
      calls.push({ method: o.method, url: o.url, data: o.data });
      return answers.shift() ?? { statusCode: 200, data: { ok: true } };
    },
    getStorageSync: () => '',
    setStorageSync: () => undefined,
    removeStorageSync: () => undefined,
    showToast: () => undefined,
  };
  return { calls, answers, taro };
});

vi.mock('@tarojs/taro', () => ({ default: h.taro }));

let accounts: typeof import('./accounts');
let groups: typeof import('./groups');
let reconciliation: typeof import('./reconciliation');

beforeAll(async () => {
  (globalThis as any).API_BASE = 'https://heat.example.com';
  accounts = await import('./accounts');
  groups = await import('./groups');
  reconciliation = await import('./reconciliation');
});

describe('client functions from the route descriptors', () => {
  it('fills the path, sends the body, adds the query', async () => {
    h.calls.length = 0;
    await accounts.accountsApi.unbind({ accountId: 12 });
    await groups.groupsApi.report({ id: 3, messageId: 9 }, { reason: '不当内容' });
    await groups.groupsApi.messages({ id: 3 }, { before: 40, limit: 30 });
    await groups.groupsApi.canned({ q: undefined, category: 'payment' });
    await accounts.accountsApi.staffSearch({ q: '锦绣 1号' });
    expect(h.calls).toEqual([
      { method: 'DELETE', url: 'https://heat.example.com/api/v1/accounts/12/binding', data: undefined },
      { method: 'POST', url: 'https://heat.example.com/api/v1/groups/3/messages/9/report', data: { reason: '不当内容' } },
      { method: 'GET', url: 'https://heat.example.com/api/v1/groups/3/messages?before=40&limit=30', data: undefined },
      { method: 'GET', url: 'https://heat.example.com/api/v1/staff/canned-replies?category=payment', data: undefined },
      { method: 'GET', url: `https://heat.example.com/api/v1/staff/accounts?q=${encodeURIComponent('锦绣 1号')}`, data: undefined },
    ]);
  });

  it('encodes path parameters and refuses a missing one', async () => {
    h.calls.length = 0;
    await reconciliation.reconciliationApi.day({ date: '2026-11-20' });
    expect(h.calls[0]!.url).toBe('https://heat.example.com/api/v1/staff/reconciliation/days/2026-11-20');
    await expect(groups.groupsApi.claim({ id: '' })).rejects.toThrow(/missing path parameter id/);
  });

  it('a file route gives the path to download, with its query', () => {
    expect(reconciliation.reconciliationApi.export({ from: '2026-11-01', to: '2026-11-20' })).toBe(
      '/api/v1/staff/reconciliation/export?from=2026-11-01&to=2026-11-20',
    );
    expect(reconciliation.reconciliationApi.rawBill({ date: '2026-11-01' })).toBe('/api/v1/staff/reconciliation/days/2026-11-01/bill');
  });
});

describe('errors the client reads', () => {
  it('a refusal without the JSON error (a proxy page) still says what happened, in Chinese', async () => {
    const { ApiError } = await import('./http');
    const { ERRORS } = await import('@heat-butler/shared');
    for (const [statusCode, code] of [
      [413, 'PAYLOAD_TOO_LARGE'],
      [429, 'RATE_LIMITED'],
      [502, 'INTERNAL'],
    ] as const) {
      h.answers.push({ statusCode, data: '<html><body>413 Request Entity Too Large</body></html>' });
      const err = await accounts.accountsApi.list({ quiet: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code, message: ERRORS[code].message });
    }
    // the server's own message wins; a code without one gets the catalogue's
    h.answers.push({ statusCode: 409, data: { error: { code: 'USERNAME_EXISTS', message: '用户名已存在，请换一个用户名' } } });
    expect(await accounts.accountsApi.list({ quiet: true }).catch((e: any) => e.message)).toBe('用户名已存在，请换一个用户名');
    h.answers.push({ statusCode: 409, data: { error: { code: 'MEASUREMENT_DAY_TAKEN' } } });
    expect(await accounts.accountsApi.list({ quiet: true }).catch((e: any) => e.message)).toBe(ERRORS.MEASUREMENT_DAY_TAKEN.message);
  });
});
