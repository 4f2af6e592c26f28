/**
 * WeChat opens the subscription dialog only from a tap (or a payment callback): the client must
 * call wx.requestSubscribeMessage synchronously in the tap handler, before any await. This runs
 * the real client modules with a stub `Taro` that records the order of calls.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => {
  const calls: string[] = [];
  const order = { id: 9, status: 'pending', requestPayment: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=x', signType: 'RSA', paySign: 's' } };
  const taro = {
    request: async (o: { url: string; method: string; data?: any }) => {
      const path = o.url.replace('https://heat.example.com', '');
      calls.push(`${o.method} ${path}`);
      if (path === '/api/v1/notifications/templates')
        return {
          statusCode: 200,
          data: {
            templates: {
              paymentSuccess: 'P',
              refund: 'R',
              invoiceIssued: 'I',
              repairProgress: 'RP',
              complaintProgress: 'CP',
              serviceChangeProgress: 'S',
              announcement: 'A',
            },
          },
        };
      if (path === '/api/v1/notifications/grants') {
        const accepted = Object.entries(o.data.results)
          .filter(([, v]) => v === 'accept')
          .map(([k]) => ({ P: 'paymentSuccess', I: 'invoiceIssued', R: 'refund' })[k]);
        return { statusCode: 200, data: { counts: { paymentSuccess: 1 }, accepted } };
      }
      if (path === '/api/v1/payments') return { statusCode: 201, data: order };
      if (path === '/api/v1/payments/9/confirm') return { statusCode: 200, data: { ...order, status: 'paid' } };
      return { statusCode: 404, data: { error: { code: 'NOT_FOUND', message: '未找到' } } };
    },
    requestSubscribeMessage: (o: { tmplIds: string[] }) => {
      calls.push(`requestSubscribeMessage ${o.tmplIds.join(',')}`);
      return Promise.resolve({ errMsg: 'requestSubscribeMessage:ok', P: 'accept', R: 'reject', I: 'accept' });
    },
    requestPayment: async () => {
      calls.push('requestPayment');
      return { errMsg: 'requestPayment:ok' };
    },
    getStorageSync: (k: string) => (k === 'hb.token' ? 'token-1234567890abcdefghij' : ''),
    setStorageSync: () => undefined,
    removeStorageSync: () => undefined,
    showToast: () => undefined,
    navigateTo: () => undefined,
    login: async () => ({ code: 'c' }),
  };
  return { calls, taro };
});

vi.mock('@tarojs/taro', () => ({ default: h.taro, useDidShow: () => undefined }));

let pay: typeof import('./pay');
let subscribe: typeof import('./subscribe');

beforeAll(async () => {
  process.env.TARO_ENV = 'weapp';
  (globalThis as any).API_BASE = 'https://heat.example.com';
  subscribe = await import('./subscribe');
  pay = await import('./pay');
});

describe('asking for subscription messages in the tap', () => {
  it('asks nothing before the template ids are loaded (no placeholder ids), then asks with the configured ids', async () => {
    h.calls.length = 0;
    expect(await subscribe.askSubscribe('repair')).toEqual({ accepted: [], counts: null });
    expect(h.calls.filter((c) => c.startsWith('requestSubscribeMessage'))).toEqual([]);
    await subscribe.loadSubscribeTemplates();
    h.calls.length = 0;
    void subscribe.askSubscribe('repair');
    expect(h.calls).toEqual(['requestSubscribeMessage RP']);
  });

  it('payBill opens the dialog synchronously, before creating the order, then pays', async () => {
    await subscribe.loadSubscribeTemplates();
    h.calls.length = 0;
    const done = pay.payBill(9);
    // still inside the tap: the dialog is the first and only thing that happened
    expect(h.calls).toEqual(['requestSubscribeMessage P,R,I']);
    const result = await done;
    expect(result.outcome).toBe('paid');
    expect(h.calls).toEqual([
      'requestSubscribeMessage P,R,I',
      'POST /api/v1/notifications/grants',
      'POST /api/v1/payments',
      'requestPayment',
      'POST /api/v1/payments/9/confirm',
    ]);
  });

  it('tells the resident what they will really get', () => {
    expect(subscribe.subscribeToast({ accepted: ['repairProgress'], counts: null })).toBe('已订阅 1 次报修进度提醒');
    expect(subscribe.subscribeToast({ accepted: [], counts: null })).toBeNull();
  });
});
