/**
 * E-invoices (数电票): titles, kinds, tax on heat, the invoice state machine. Pure rules shared by
 * the BFF and the mini-program. See domain-rules.md §2.
 */
import { z } from 'zod';
import { checkTaxId, normalizeTaxId } from './taxid';
import { isMobile } from './person';
import type { AccountUse } from './account';
import type { TransitionTable } from './state-machine';

export const INVOICE_TITLE_KINDS = ['personal', 'company', 'vat_special'] as const;
export type InvoiceTitleKind = (typeof INVOICE_TITLE_KINDS)[number];
export const INVOICE_TITLE_KIND_LABEL: Record<InvoiceTitleKind, string> = {
  personal: '个人',
  company: '单位（普通发票）',
  vat_special: '单位（增值税专用发票）',
};

/** What the resident reads before asking, in one screen. */
export const INVOICE_GUIDE: { kind: InvoiceTitleKind; title: string; needs: string; note: string }[] = [
  { kind: 'personal', title: '电子发票（普通发票）· 个人', needs: '只需填写姓名', note: '居民供暖费免征增值税，发票税率栏显示“免税”' },
  { kind: 'company', title: '电子发票（普通发票）· 单位', needs: '单位名称和纳税人识别号（统一社会信用代码）', note: '单位报销请选此类' },
  {
    kind: 'vat_special',
    title: '电子发票（增值税专用发票）',
    needs: '单位名称、纳税人识别号，以及地址、电话、开户行和账号',
    note: '仅非居民（商业）用热可开；居民供热免税，不能开具专票',
  },
];
export const INVOICE_DELIVERY_NOTE = '缴费成功后申请，一般1分钟内开具，最迟不超过1个工作日；开具后可在“我的发票”中查看、下载PDF，或发送到邮箱。';

const Email = z
  .string()
  .trim()
  .max(100)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, '邮箱格式不正确');

/** An invoice title as the resident types it (or as WeChat's chooseInvoiceTitle fills it). */
export const InvoiceTitleInput = z
  .object({
    kind: z.enum(INVOICE_TITLE_KINDS),
    name: z.string().trim().min(1, '请填写发票抬头').max(100, '发票抬头不超过100字'),
    taxId: z.string().trim().max(30).optional(),
    address: z.string().trim().max(80).optional(),
    phone: z.string().trim().max(20).optional(),
    bank: z.string().trim().max(60).optional(),
    bankAccount: z.string().trim().max(40).optional(),
    email: Email.optional().or(z.literal('').transform(() => undefined)),
    isDefault: z.boolean().default(false),
    /** the resident confirms an 18-character code whose check character looks wrong */
    confirmTaxId: z.boolean().default(false),
  })
  .superRefine((v, ctx) => {
    if (v.kind !== 'personal') {
      if (!v.taxId) {
        ctx.addIssue({ code: 'custom', path: ['taxId'], message: '单位抬头必须填写纳税人识别号' });
      } else {
        const c = checkTaxId(v.taxId);
        if (!c.ok) ctx.addIssue({ code: 'custom', path: ['taxId'], message: c.message });
        else if (c.kind === 'uscc' && !c.checksumOk && !v.confirmTaxId)
          ctx.addIssue({ code: 'custom', path: ['taxId'], message: c.message, params: { needsConfirm: true, expected: c.expected } });
      }
    } else if (v.taxId) {
      const c = checkTaxId(v.taxId);
      if (!c.ok) ctx.addIssue({ code: 'custom', path: ['taxId'], message: c.message });
    }
    if (v.kind === 'vat_special') {
      for (const [k, label] of [
        ['address', '地址'],
        ['phone', '电话'],
        ['bank', '开户行'],
        ['bankAccount', '银行账号'],
      ] as const) {
        if (!v[k]) ctx.addIssue({ code: 'custom', path: [k], message: `增值税专用发票需填写${label}` });
      }
    }
    if (v.phone && !/^[\d\-+ ()]{7,20}$/.test(v.phone) && !isMobile(v.phone)) ctx.addIssue({ code: 'custom', path: ['phone'], message: '电话格式不正确' });
  })
  .transform((v) => ({ ...v, taxId: v.taxId ? normalizeTaxId(v.taxId) : undefined }));
export type InvoiceTitleInput = z.input<typeof InvoiceTitleInput>;

/** WeChat's wx.chooseInvoiceTitle answer: `type` is the STRING "0" (单位) or "1" (个人). */
export interface WechatInvoiceTitle {
  type: '0' | '1' | string;
  title: string;
  taxNumber?: string;
  companyAddress?: string;
  telephone?: string;
  bankName?: string;
  bankAccount?: string;
}

export function fromWechatInvoiceTitle(t: WechatInvoiceTitle): InvoiceTitleInput {
  const company = String(t.type) === '0';
  const vat = company && !!(t.companyAddress && t.telephone && t.bankName && t.bankAccount);
  return {
    kind: company ? (vat ? 'vat_special' : 'company') : 'personal',
    name: t.title,
    taxId: t.taxNumber || undefined,
    address: t.companyAddress || undefined,
    phone: t.telephone || undefined,
    bank: t.bankName || undefined,
    bankAccount: t.bankAccount || undefined,
  };
}

// ---- invoices -----------------------------------------------------------------------------------

/** 数电普票 'pc', 数电专票 'bs' (Nuonuo invoiceLine codes). */
export type InvoiceLine = 'pc' | 'bs';

export const INVOICE_STATES = ['requested', 'issuing', 'issued', 'failed', 'reversed'] as const;
export type InvoiceState = (typeof INVOICE_STATES)[number];
export const INVOICE_STATE_LABEL: Record<InvoiceState, string> = {
  requested: '已申请',
  issuing: '开具中',
  issued: '已开具',
  failed: '开具失败',
  reversed: '已红冲',
};

export const INVOICE_TRANSITIONS: TransitionTable<InvoiceState> = [
  { from: 'requested', to: 'issuing', by: ['system'] },
  { from: 'requested', to: 'failed', by: ['system'] },
  { from: 'issuing', to: 'issued', by: ['system'] },
  { from: 'issuing', to: 'failed', by: ['system'] },
  // retried automatically when the provider's failure is retryable, by finance, or when the resident changes its title
  { from: 'failed', to: 'requested', by: ['system', 'finance', 'resident'] },
  // a refund reverses the invoice with a red-letter one
  { from: 'issued', to: 'reversed', by: ['system'] },
];

/** What an invoice's state means for the resident, in one sentence (null when its label says it all). */
export function invoiceExplanation(inv: {
  direction: 'blue' | 'red';
  status: InvoiceState;
  redReason: 'refund' | 'retitle' | null;
  pendingTitleName: string | null;
  replacement: { titleName: string; status: InvoiceState } | null;
  retitled: boolean;
}): string | null {
  const next = inv.replacement
    ? inv.replacement.status === 'issued'
      ? `已重新开具抬头为“${inv.replacement.titleName}”的发票`
      : `正在重新开具抬头为“${inv.replacement.titleName}”的发票`
    : null;
  if (inv.direction === 'red') {
    if (inv.redReason === 'retitle')
      return `您申请更换发票抬头，原发票已用这张红字发票冲销作废（金额为负数）${next ? `，${next}` : '，随后按新抬头重新开具'}。`;
    const again = inv.replacement ? (inv.replacement.status === 'issued' ? '，并已按实缴金额重新开具发票' : '，正在按实缴金额重新开具发票') : '';
    return `因退费，原发票已用这张红字发票冲销作废（金额为负数）${again || '；如仍有实缴金额，将按实缴金额重新开具'}。`;
  }
  if (inv.pendingTitleName) return `正在更换抬头为“${inv.pendingTitleName}”：原发票红冲作废后按新抬头重新开具，开具后将通过微信通知您。`;
  if (inv.status === 'reversed') return `此发票已红冲作废${next ? `，${next}` : ''}。`;
  if (inv.retitled && inv.status === 'issued') return '这张发票是更换抬头后重新开具的（每笔缴费只能更换一次抬头）。';
  return null;
}

export interface InvoiceTaxRules {
  residentialExempt: boolean;
  /** basis points, 900 = 9% */
  commercialRateBp: number;
  goodsName: string;
  /** 19-digit tax classification code; 1100102010100000000 = 三北热力 */
  goodsCode: string;
}

/** Tax on a tax-inclusive amount: exempt (免税, 0) for residential heat when configured, else rate/(1+rate). */
export function invoiceTax(amountFen: number, use: AccountUse, rules: InvoiceTaxRules) {
  if (use === 'residential' && rules.residentialExempt) {
    return { exempt: true, rateBp: 0, taxFen: 0, netFen: amountFen, rateLabel: '免税' };
  }
  const taxFen = Math.floor((amountFen * rules.commercialRateBp + Math.floor((10000 + rules.commercialRateBp) / 2)) / (10000 + rules.commercialRateBp));
  return { exempt: false, rateBp: rules.commercialRateBp, taxFen, netFen: amountFen - taxFen, rateLabel: `${rules.commercialRateBp / 100}%` };
}
