/**
 * The privacy list (shared/src/privacy.ts) is what the page shows and what the company declares
 * to WeChat; it must match what the code really collects:
 * - every privacy-relevant wx API (or button open-type) the mini-program calls has an item;
 * - every field of every request a resident sends the BFF is either covered by an item or
 *   explicitly not personal (a new field fails here until someone decides);
 * - every field an item names exists (the list claims nothing the code doesn't do).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as shared from '@heat-butler/shared';
import { PRIVACY_ITEMS, PRIVACY_WX_APIS, SUBSCRIBE_TEMPLATES } from '@heat-butler/shared';

const root = path.resolve(__dirname, '..', '..');

function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, re));
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

/** Field paths of a zod schema: `a`, `a.b`, `list.[].c`. */
function fieldPaths(schema: any, prefix = '', out: string[] = []): string[] {
  const d = schema?._zod?.def;
  if (!d) return out;
  if (d.type === 'object') {
    for (const [k, v] of Object.entries(d.shape)) {
      out.push(prefix + k);
      fieldPaths(v, `${prefix}${k}.`, out);
    }
  } else if (d.type === 'pipe') fieldPaths(d.in, prefix, out);
  else if (['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type)) fieldPaths(d.innerType, prefix, out);
  else if (d.type === 'array') fieldPaths(d.element, `${prefix}[].`, out);
  else if (d.type === 'union') for (const o of d.options) fieldPaths(o, prefix, out);
  return out;
}

/** Request fields that are ids, choices, flags or times: nothing about a person. */
const NOT_PERSONAL = new Set([
  'CreatePaymentRequest.billId',
  'PayAllRequest.accountId',
  'PayAllRequest.billIds',
  'FileComplaintRequest.accountId',
  'MeasurementRescheduleRequest.scheduledAt',
  'RescheduleRequest.slotStart',
  'RescheduleRequest.slotEnd',
  'RequestInvoice.orderId',
  'RequestInvoice.titleId',
  'RequestInvoice.title',
  'RequestInvoice.title.kind',
  'RequestInvoice.title.isDefault',
  'RequestInvoice.title.confirmTaxId',
  'ChangeInvoiceTitle.titleId',
  'ChangeInvoiceTitle.title',
  'ChangeInvoiceTitle.title.kind',
  'ChangeInvoiceTitle.title.isDefault',
  'ChangeInvoiceTitle.title.confirmTaxId',
  'InvoiceTitleInput.kind',
  'InvoiceTitleInput.isDefault',
  'InvoiceTitleInput.confirmTaxId',
  'CreateRepairRequest.accountId',
  'CreateRepairRequest.category',
  'CreateRepairRequest.emergency',
  'CreateRepairRequest.slotStart',
  'CreateRepairRequest.slotEnd',
  'CreateRepairRequest.residentReadingC',
  'RateRepairRequest.rating',
  'RateRepairRequest.satisfied',
  'ConsentRequest.accept',
  'MeasurementBookRequest.accountId',
  'MeasurementBookRequest.scheduledAt',
  'MeasurementBookRequest.threeParty',
  'MeasurementBookRequest.repairId',
  'SubmitServiceChange.accountId',
  'SubmitServiceChange.season',
  'SubmitServiceChange.kind',
  'SubmitServiceChange.documents.[].kind',
  'ResubmitServiceChange.documents.[].kind',
  'PostMessage.quoteId',
  'PostMessage.link',
  'ReadBody.upTo',
  'SubscribeGrantReport.results',
]);

/** The request schemas residents send: `body:` of every route a resident may call, plus login. */
/** The request body schemas of every route residents may call, by their exported names in shared. */
function residentRequestSchemas(): string[] {
  const names = new Set<string>(['WechatLoginRequest']);
  const nameOf = new Map<unknown, string>();
  for (const [k, v] of Object.entries(shared)) if (v && typeof v === 'object' && !nameOf.has(v)) nameOf.set(v, k);
  for (const f of files(path.join(root, 'server', 'src', 'modules'), /^routes\.ts$/)) {
    const src = fs.readFileSync(f, 'utf8');
    // route(r, { ...BillingApi.pay, auth: ['resident'] }, …): the descriptor carries the body schema
    for (const m of src.matchAll(/\.\.\.(\w+Api)\.(\w+),\s*auth:\s*\[[^\]]*'resident'[^\]]*\]/g)) {
      const body = (shared as Record<string, any>)[m[1]!]?.[m[2]!]?.body;
      if (body) names.add(nameOf.get(body) ?? `${m[1]}.${m[2]}`);
    }
  }
  return [...names].sort();
}

describe('the privacy list matches the code', () => {
  it('covers every privacy-relevant wx API the mini-program calls', () => {
    const used = new Set<string>();
    for (const f of files(path.join(root, 'miniprogram'), /\.(tsx?|jsx?)$/)) {
      const src = fs.readFileSync(f, 'utf8');
      for (const m of src.matchAll(/\b(?:Taro|wx)(?:\s+as\s+any\))?\s*\.\s*(\w+)\s*\(/g)) used.add(m[1]!);
      for (const m of src.matchAll(/openType=['"{]+(\w+)/g)) used.add(m[1]!);
    }
    expect(used.has('requestPayment')).toBe(true); // the scan sees the code
    const declared = new Set(PRIVACY_ITEMS.flatMap((i) => i.wxApis));
    const missing = [...used].filter((api) => PRIVACY_WX_APIS.includes(api) && !declared.has(api));
    expect(missing).toEqual([]);
  });

  it('covers every field a resident sends, or lists it as not personal', () => {
    const schemas = residentRequestSchemas();
    expect(schemas).toEqual(
      expect.arrayContaining(['BindRequest', 'PostMessage', 'InvoiceTitleInput', 'SubmitServiceChange', 'CreateRepairRequest', 'EmailInvoice']),
    );
    const covered = new Set(PRIVACY_ITEMS.flatMap((i) => i.fields));
    const unclassified: string[] = [];
    for (const name of schemas) {
      const schema = (shared as any)[name];
      expect(schema, `${name} is exported by shared`).toBeDefined();
      for (const p of fieldPaths(schema)) {
        const full = `${name}.${p}`;
        if (!covered.has(full) && !NOT_PERSONAL.has(full)) unclassified.push(full);
      }
    }
    expect(unclassified).toEqual([]);
  });

  it('names only fields that exist', () => {
    const missing = PRIVACY_ITEMS.flatMap((i) => i.fields).filter((f) => {
      const [name, ...rest] = f.split('.');
      return !fieldPaths((shared as any)[name!]).includes(rest.join('.'));
    });
    expect(missing).toEqual([]);
  });

  it('the privacy page renders the shared list', () => {
    const page = fs.readFileSync(path.join(root, 'miniprogram', 'pages', 'privacy', 'index.tsx'), 'utf8');
    expect(page).toContain('PRIVACY_ITEMS');
    expect(page).toContain('NOT_COLLECTED');
  });

  it('the shipping guide declares the same privacy items and the templates the code sends', () => {
    const guide = fs.readFileSync(path.join(root, 'docs', 'SHIPPING.md'), 'utf8');
    for (const i of PRIVACY_ITEMS) expect(guide, i.key).toContain(`| ${i.declareAs} | ${i.what} | ${i.purpose} |`);
    for (const t of Object.values(SUBSCRIBE_TEMPLATES)) {
      const keywords = Object.entries(t.fields)
        .map(([key, label]) => `${label} \`${key}\``)
        .join('、');
      expect(guide, t.title).toContain(`| ${t.title} | \`${t.env}\` | ${keywords} |`);
    }
  });
});
