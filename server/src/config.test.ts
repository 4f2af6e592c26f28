/**
 * Settings: every one is read in config.ts; production refuses sandbox stand-ins with one message
 * naming each variable; the e-invoice client sends the configured seller tax number.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, SANDBOX_TAX_NUMBER, einvoiceTaxNumber, loadConfig } from './config';
import { createClients } from './host';

/** everything production needs except what a test leaves out */
const PRODUCTION = {
  HB_MODE: 'production',
  DATABASE_URL: 'mariadb://hb:secret@db.internal:3306/heat',
  PUBLIC_BASE_URL: 'https://heat.example.cn',
  WECHAT_API_BASE: 'https://api.weixin.qq.com',
  WXPAY_API_BASE: 'https://api.mch.weixin.qq.com',
  WXPAY_MERCHANT_CERT_PATH: '/etc/heat/apiclient_cert.pem',
  WXPAY_MERCHANT_KEY_PATH: '/etc/heat/apiclient_key.pem',
  WXPAY_PLATFORM_CERTS: '[]',
  EINVOICE_API_BASE: 'https://sdk.nuonuo.com',
  FILE_URL_SECRET: 'a-long-enough-secret-for-links',
  WECHAT_PUSH_TOKEN: 'realPushToken42',
  WECHAT_TPL_PAYMENT_SUCCESS: 'tpl-1',
  WECHAT_TPL_REFUND: 'tpl-2',
  WECHAT_TPL_INVOICE_ISSUED: 'tpl-3',
  WECHAT_TPL_REPAIR_PROGRESS: 'tpl-4',
  WECHAT_TPL_COMPLAINT_PROGRESS: 'tpl-7',
  WECHAT_TPL_SERVICE_CHANGE: 'tpl-5',
  WECHAT_TPL_ANNOUNCEMENT: 'tpl-6',
  EINVOICE_TAX_NUMBER: '91220101MA17ABCD3X',
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env as NodeJS.ProcessEnv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('settings', () => {
  it('production starts with every variable set, and fails fast without the e-invoice tax number (or with the sandbox one)', () => {
    const ok = loadConfig(PRODUCTION as NodeJS.ProcessEnv);
    expect(einvoiceTaxNumber(ok)).toBe('91220101MA17ABCD3X');

    const { EINVOICE_TAX_NUMBER: _, ...without } = PRODUCTION;
    const message = configError(without);
    expect(message).toContain('EINVOICE_TAX_NUMBER');
    expect(message).toContain('生产模式必须设置');
    expect(message.split('\n')).toHaveLength(2); // only this variable is wrong
    expect(configError({ ...PRODUCTION, EINVOICE_TAX_NUMBER: SANDBOX_TAX_NUMBER })).toContain('EINVOICE_TAX_NUMBER');
    expect(configError({ ...PRODUCTION, EINVOICE_TAX_NUMBER: 'abc' })).toContain('纳税人识别号');
  });

  it('sandbox mode uses the simulator’s tax number; folders have defaults and follow their variables', () => {
    const sandbox = loadConfig({} as NodeJS.ProcessEnv);
    expect(einvoiceTaxNumber(sandbox)).toBe(SANDBOX_TAX_NUMBER);
    expect(sandbox.RECON_BILL_DIR).toBe(path.resolve(process.cwd(), 'data', 'trade-bills'));
    expect(sandbox.UPLOAD_DIR).toBe(path.resolve(process.cwd(), 'data', 'uploads'));
    expect(sandbox.HB_SEED_DEMO).toBe('0');
    const set = loadConfig({ RECON_BILL_DIR: '/srv/bills', UPLOAD_DIR: '/srv/uploads', HB_SEED_DEMO: '1' } as NodeJS.ProcessEnv);
    expect([set.RECON_BILL_DIR, set.UPLOAD_DIR, set.HB_SEED_DEMO]).toEqual(['/srv/bills', '/srv/uploads', '1']);
    expect(configError({ HB_SEED_DEMO: 'yes' })).toContain('HB_SEED_DEMO');
  });

  it('the e-invoice client sends the configured tax number as userTax', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.usertax as string | undefined);
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ code: 'E0000', result: [] })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = loadConfig({ EINVOICE_API_BASE: base, EINVOICE_TAX_NUMBER: '91220101MA17ABCD3X' } as NodeJS.ProcessEnv);
      await createClients(config).einvoice.query(['serial-1']);
      expect(seen).toEqual(['91220101MA17ABCD3X']);
    } finally {
      server.close();
    }
  });
});
