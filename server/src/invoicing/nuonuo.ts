/**
 * The e-invoice provider client, speaking Nuonuo's open API (诺税通, domain-rules.md §2):
 * POST {base}/open/v1/services?senid&nonce&timestamp&appkey with headers X-Nuonuo-Sign
 * (Base64 HMAC-SHA1 over "a=services&l=v1&p=open&k=…&i=…&n=…&t=…&f=<body>"), accessToken,
 * userTax, method. Submitting is asynchronous: requestBillingNew answers a serial number, and
 * queryInvoiceResult tells the outcome (2 issued, 20/21 in progress, 22/24 failed).
 * The sandbox simulates it (server/src/sandbox/einvoice.ts); production differs by URL and keys.
 */
import crypto from 'node:crypto';

export interface InvoiceDetailLine {
  goodsName: string;
  goodsCode: string;
  num: string;
  price: string;
  withTaxFlag: '1';
  taxRate: string;
  tax: string;
  taxExcludedAmount: string;
  taxIncludedAmount: string;
  invoiceLineProperty: '0';
  /** '03' = 免税 */
  favouredPolicyFlag?: string;
}

export interface BillingOrder {
  orderNo: string;
  invoiceDate: string;
  buyerName: string;
  buyerTaxNum?: string;
  buyerTel?: string;
  buyerAddress?: string;
  buyerAccount?: string;
  salerTaxNum: string;
  /** 1 blue, 2 red */
  invoiceType: '1' | '2';
  invoiceLine: 'pc' | 'bs';
  pushMode: '-1';
  naturalPersonFlag?: '0' | '1';
  remark?: string;
  callBackUrl?: string;
  /** red: the 20-digit number of the invoice it reverses */
  oldEleInvoiceNumber?: string;
  redReason?: string;
  invoiceDetail: InvoiceDetailLine[];
}

export interface InvoiceResult {
  serialNo: string;
  orderNo: string;
  /** '2' issued (final), '20' issuing, '21' signing, '22' failed, '24' signing failed */
  status: string;
  statusMsg: string;
  failCause?: string;
  allElectronicInvoiceNumbe?: string;
  invoiceTime?: number;
  pdfUrl?: string;
}

/** A provider answer other than success. `retryable`: system busy, timeouts, 5xx. */
export class ProviderError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface InvoiceProvider {
  /** submit a blue or red invoice; idempotent by orderNo (a repeat answers the first serial) */
  submit(order: BillingOrder): Promise<{ serial: string }>;
  query(serials: string[]): Promise<InvoiceResult[]>;
}

export interface NuonuoOptions {
  baseUrl: string;
  appKey: string;
  appSecret: string;
  accessToken: string;
  userTax: string;
  timeoutMs?: number;
}

export function nuonuoSign(secret: string, p: { appKey: string; senid: string; nonce: string; timestamp: string; body: string }): string {
  const message = `a=services&l=v1&p=open&k=${p.appKey}&i=${p.senid}&n=${p.nonce}&t=${p.timestamp}&f=${p.body}`;
  return crypto.createHmac('sha1', secret).update(message, 'utf8').digest('base64');
}

const RETRYABLE_CODES = new Set(['E9999', 'E0010', 'E9001']);

export function createNuonuoClient(o: NuonuoOptions): InvoiceProvider {
  async function call<T>(method: string, payload: unknown): Promise<T> {
    const body = JSON.stringify(payload);
    const senid = crypto.randomBytes(16).toString('hex');
    const nonce = String(crypto.randomInt(10_000_000, 99_999_999));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const url = `${o.baseUrl}/open/v1/services?senid=${senid}&nonce=${nonce}&timestamp=${timestamp}&appkey=${encodeURIComponent(o.appKey)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json;charset=utf-8',
          'X-Nuonuo-Sign': nuonuoSign(o.appSecret, { appKey: o.appKey, senid, nonce, timestamp, body }),
          accessToken: o.accessToken,
          userTax: o.userTax,
          method,
        },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
    } catch (err: any) {
      throw new ProviderError(err?.name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK', `e-invoice provider unreachable: ${err?.message ?? err}`, true);
    }
    if (res.status >= 500) throw new ProviderError(`HTTP_${res.status}`, `e-invoice provider answered ${res.status}`, true);
    const json: any = await res.json().catch(() => null);
    if (!json) throw new ProviderError('BAD_ANSWER', 'e-invoice provider answered no JSON', true);
    if (json.code !== 'E0000') throw new ProviderError(String(json.code), String(json.describe ?? json.code), RETRYABLE_CODES.has(String(json.code)));
    return json.result as T;
  }

  return {
    async submit(order) {
      try {
        const r = await call<{ invoiceSerialNum: string }>('nuonuo.OpeMplatform.requestBillingNew', { order });
        return { serial: r.invoiceSerialNum };
      } catch (err) {
        // a repeat of an order already accepted: find its serial
        if (err instanceof ProviderError && err.code === 'E9106') {
          const [found] = await call<InvoiceResult[]>('nuonuo.OpeMplatform.queryInvoiceResult', { orderNos: [order.orderNo], isOfferInvoiceDetail: '0' });
          if (found) return { serial: found.serialNo };
        }
        throw err;
      }
    },
    async query(serials) {
      return call<InvoiceResult[]>('nuonuo.OpeMplatform.queryInvoiceResult', { serialNos: serials, isOfferInvoiceDetail: '0' });
    },
  };
}
