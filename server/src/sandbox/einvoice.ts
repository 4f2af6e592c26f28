/**
 * Sandbox e-invoice provider in Nuonuo's protocol (see server/src/invoicing/nuonuo.ts): checks
 * the HMAC signature, accepts blue and red orders (idempotent by orderNo), issues them on the
 * next query, and serves a real PDF of each invoice rendered with a CJK font (Debian's
 * fonts-noto-cjk). Faults for tests: `failNext('busy' | 'fail' | 'timeout')`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Router from '@koa/router';
import PDFDocument from 'pdfkit';
import { chinaDate } from '@heat-butler/shared';
import { nuonuoSign, type BillingOrder } from '../invoicing/nuonuo';

export const SANDBOX_EINVOICE = { appKey: 'SANDBOX_APPKEY', appSecret: 'sandbox-einvoice-secret', accessToken: 'sandbox-einvoice-token' };
export const SELLER = { name: '和煦热力有限公司（沙箱）', taxId: '339902999999789113' };
const CJK_FONTS = ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', '/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc'];

export interface SandboxInvoice {
  serialNo: string;
  order: BillingOrder;
  status: '20' | '2' | '22';
  failCause?: string;
  number?: string;
  issuedAt?: number;
  queries: number;
}

export type EInvoiceFault = 'busy' | 'fail' | 'timeout';

export interface EInvoiceState {
  invoices: Map<string, SandboxInvoice>;
  byOrderNo: Map<string, string>;
  faults: EInvoiceFault[];
  /** make the next requestBillingNew misbehave */
  failNext(fault: EInvoiceFault): void;
}

export function createEInvoiceSimulator(opts: { timeoutMs?: number } = {}) {
  const state: EInvoiceState = {
    invoices: new Map(),
    byOrderNo: new Map(),
    faults: [],
    failNext(f) {
      state.faults.push(f);
    },
  };
  let seq = 0;
  const answer = (code: string, describe: string, result?: unknown) => ({ code, describe, ...(result !== undefined ? { result } : {}) });
  const r = new Router({ prefix: '/einvoice' });

  r.post('/open/v1/services', async (ctx) => {
    const raw: string = (ctx.request as any).rawBody ?? '';
    const q = ctx.query as Record<string, string>;
    const expected = nuonuoSign(SANDBOX_EINVOICE.appSecret, {
      appKey: q.appkey ?? '',
      senid: q.senid ?? '',
      nonce: q.nonce ?? '',
      timestamp: q.timestamp ?? '',
      body: raw,
    });
    if (q.appkey !== SANDBOX_EINVOICE.appKey || ctx.get('X-Nuonuo-Sign') !== expected) {
      ctx.body = answer('E1007', '签名验证失败');
      return;
    }
    if (ctx.get('accessToken') !== SANDBOX_EINVOICE.accessToken) {
      ctx.body = answer('E1004', 'accessToken无效');
      return;
    }
    const body = (ctx.request as any).body ?? {};
    const method = ctx.get('method');
    if (method === 'nuonuo.OpeMplatform.requestBillingNew') {
      const fault = state.faults.shift();
      if (fault === 'busy') {
        ctx.body = answer('E9999', '系统繁忙，请稍后重试');
        return;
      }
      const order = body.order as BillingOrder | undefined;
      const problems: string[] = [];
      if (!order?.orderNo) problems.push('orderNo不能为空');
      if (!order?.buyerName) problems.push('购方名称不能为空');
      if (!order?.invoiceDetail?.length) problems.push('invoiceDetail不能为空');
      if (order?.invoiceType === '2' && !order.oldEleInvoiceNumber) problems.push('红票须填写原发票号码');
      if (problems.length) {
        ctx.body = answer('E9101', problems.join('；'));
        return;
      }
      if (state.byOrderNo.has(order!.orderNo)) {
        ctx.body = answer('E9106', '订单编号不能重复');
        return;
      }
      const serialNo = `${new Date().toISOString().slice(2, 10).replace(/-/g, '')}${String(++seq).padStart(10, '0')}`;
      state.invoices.set(serialNo, {
        serialNo,
        order: order!,
        status: '20',
        queries: 0,
        ...(fault === 'fail' ? { failCause: '购方纳税人识别号校验不通过' } : {}),
      });
      state.byOrderNo.set(order!.orderNo, serialNo);
      // 'timeout': accepted, but the answer comes too late for the caller
      if (fault === 'timeout') await new Promise((res) => setTimeout(res, opts.timeoutMs ?? 15_000));
      ctx.body = answer('E0000', '开票提交成功', { invoiceSerialNum: serialNo });
      return;
    }
    if (method === 'nuonuo.OpeMplatform.queryInvoiceResult') {
      const serials: string[] = body.serialNos ?? (body.orderNos ?? []).map((n: string) => state.byOrderNo.get(n)).filter(Boolean);
      const base = `${ctx.protocol}://${ctx.host}${ctx.get('x-sandbox-base')}`;
      const out = serials
        .map((s) => state.invoices.get(s))
        .filter((x): x is SandboxInvoice => !!x)
        .map((inv) => {
          inv.queries++;
          // issuing on the first look, done on the next
          if (inv.status === '20' && inv.queries >= 2) {
            if (inv.failCause) inv.status = '22';
            else {
              inv.status = '2';
              inv.issuedAt = Date.now();
              inv.number = `26${'22'}${'0'}${String(crypto.randomInt(0, 1e9)).padStart(9, '0')}${String(crypto.randomInt(0, 1e6)).padStart(6, '0')}`;
            }
          }
          return {
            serialNo: inv.serialNo,
            orderNo: inv.order.orderNo,
            status: inv.status,
            statusMsg: inv.status === '2' ? '开票完成（最终状态）' : inv.status === '22' ? '开票失败' : '开票中',
            ...(inv.failCause && inv.status === '22' ? { failCause: inv.failCause } : {}),
            ...(inv.number ? { allElectronicInvoiceNumbe: inv.number, invoiceTime: inv.issuedAt, pdfUrl: `${base}/einvoice/pdf/${inv.serialNo}.pdf` } : {}),
            invoiceType: inv.order.invoiceType,
            ...(inv.order.oldEleInvoiceNumber ? { oldEleInvoiceNumber: inv.order.oldEleInvoiceNumber } : {}),
          };
        });
      ctx.body = answer('E0000', '查询成功', out);
      return;
    }
    ctx.body = answer('E1001', `不支持的方法 ${method}`);
  });

  r.get('/pdf/:file', async (ctx) => {
    const inv = state.invoices.get(String(ctx.params.file).replace(/\.pdf$/, ''));
    if (!inv?.number) {
      ctx.status = 404;
      return;
    }
    ctx.type = 'application/pdf';
    ctx.body = await renderInvoicePdf(inv);
  });

  return { state, routes: r };
}

export function cjkFontPath(): string | null {
  return CJK_FONTS.find((p) => fs.existsSync(p)) ?? null;
}

/** A one-page invoice with the invoice's data, Chinese text in Noto Sans CJK SC. */
export function renderInvoicePdf(inv: SandboxInvoice): Promise<Buffer> {
  const font = cjkFontPath();
  if (!font) throw new Error('no CJK font installed (apt-get install fonts-noto-cjk)');
  const o = inv.order;
  const red = o.invoiceType === '2';
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A5', layout: 'landscape', margin: 36, info: { Title: `电子发票 ${inv.number}` } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.font(font, 'NotoSansCJKsc-Regular');
    doc
      .fillColor(red ? '#c92a2a' : '#8b4513')
      .fontSize(18)
      .text(`电子发票（${o.invoiceLine === 'bs' ? '增值税专用发票' : '普通发票'}）${red ? '（红字）' : ''}`, { align: 'center' });
    doc.moveDown(0.5).fillColor('#222').fontSize(10);
    doc.text(`发票号码：${inv.number}    开票日期：${chinaDate(inv.issuedAt!)}`, { align: 'right' });
    doc.moveDown(0.5);
    doc.text(`购买方：${o.buyerName}${o.buyerTaxNum ? `    统一社会信用代码/纳税人识别号：${o.buyerTaxNum}` : ''}`);
    doc.text(`销售方：${SELLER.name}    统一社会信用代码/纳税人识别号：${o.salerTaxNum}`);
    doc.moveDown(0.5);
    for (const d of o.invoiceDetail) {
      doc.text(
        `*热力*${d.goodsName}    税收分类编码 ${d.goodsCode}    金额 ${d.taxExcludedAmount}    税率 ${d.favouredPolicyFlag === '03' ? '免税' : d.taxRate}    税额 ${d.favouredPolicyFlag === '03' ? '***' : d.tax}`,
      );
    }
    const total = o.invoiceDetail.reduce((s, d) => s + Number(d.taxIncludedAmount), 0).toFixed(2);
    doc.moveDown(0.5).fontSize(12).text(`价税合计（小写）¥${total}`);
    if (o.remark) doc.fontSize(10).text(`备注：${o.remark}`);
    if (red) doc.fontSize(10).text(`被红冲蓝字数电发票号码：${o.oldEleInvoiceNumber}  红冲原因：${o.redReason ?? '服务中止'}`);
    doc.end();
  });
}
