/**
 * Taxpayer ids of invoice buyers: the 18-character unified social credit code (GB 32100-2015)
 * with its mod-31 check character, and legacy 15/17/20-character taxpayer ids.
 * Some real early codes fail the check (e.g. 91350100M0001TGQXM): a failed check is a warning the
 * resident must confirm, never a hard refusal (see domain-rules.md §1).
 */
const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
export const USCC_RE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;
const LEGACY_RE = /^[0-9A-Z]{15}$|^[0-9A-Z]{17}$|^[0-9A-Z]{20}$/;

export type TaxIdCheck =
  | { ok: true; kind: 'uscc'; checksumOk: true }
  | { ok: true; kind: 'uscc'; checksumOk: false; expected: string; message: string }
  | { ok: true; kind: 'legacy' }
  | { ok: false; message: string };

/**
 * What the resident typed, as the id: full-width characters (９１３５…, Ｍ, －, the ideographic
 * space) become their ASCII forms (NFKC), spaces and hyphens go, letters are capitalised.
 */
export function normalizeTaxId(input: string): string {
  return input
    .normalize('NFKC')
    .replace(/[\s\-‐‑–—]/g, '')
    .toUpperCase();
}

/** The mod-31 check character a 17-character USCC body should end with. */
export function usccCheckChar(body17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARSET.indexOf(body17[i]) * USCC_WEIGHTS[i];
  return USCC_CHARSET[(31 - (sum % 31)) % 31];
}

export function checkTaxId(input: string): TaxIdCheck {
  const id = normalizeTaxId(input);
  if (!id) return { ok: false, message: '请填写纳税人识别号' };
  if (id.length === 18) {
    if (!USCC_RE.test(id)) {
      const bad = Array.from(id).find((c) => !USCC_CHARSET.includes(c));
      if (bad && /[A-Z]/.test(bad)) return { ok: false, message: `统一社会信用代码不能包含字母“${bad}”（不使用 I、O、S、V、Z）` };
      if (bad) return { ok: false, message: `纳税人识别号只能包含数字和大写字母，不能包含“${bad}”` };
      return { ok: false, message: '统一社会信用代码第3至8位应为数字（登记管理机关行政区划码）' };
    }
    const expected = usccCheckChar(id.slice(0, 17));
    if (expected === id[17]) return { ok: true, kind: 'uscc', checksumOk: true };
    return {
      ok: true,
      kind: 'uscc',
      checksumOk: false,
      expected,
      message: `统一社会信用代码校验位应为“${expected}”，请核对；如确认无误请勾选确认后继续`,
    };
  }
  if (LEGACY_RE.test(id)) return { ok: true, kind: 'legacy' };
  const other = Array.from(id).find((c) => !/[0-9A-Z]/.test(c));
  if (other) return { ok: false, message: `纳税人识别号只能包含数字和大写字母，不能包含“${other}”` };
  return { ok: false, message: `纳税人识别号应为18位统一社会信用代码，或15、17、20位税号（当前${id.length}位）` };
}
