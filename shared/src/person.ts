/** Phone numbers, names and their masking (PIPL: mask on the server, never log in clear). */

/** Mainland mobile numbers incl. 162/165/167/17x and 19x ranges; optional +86/86 prefix. */
export const MOBILE_RE = /^(?:\+?86)?1(?:3\d|4[5-79]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$/;

export function normalizeMobile(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '');
  if (!MOBILE_RE.test(compact)) return null;
  return compact.slice(-11);
}

export function isMobile(input: string): boolean {
  return normalizeMobile(input) !== null;
}

/** A landline: area code (010, 02X: 3 digits; others 4) and a 7–8 digit number, e.g. 0431-88886666. */
const LANDLINE_RE = /^(?:\+?86)?(0(?:10|2\d|[3-9]\d{2}))-?(\d{7,8})$/;

/**
 * 13812341234 -> 138****1234; a landline keeps its area code: 0431-88886666 -> 0431-****6666;
 * anything else keeps only its last 4 characters.
 */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return '';
  const mobile = normalizeMobile(phone.normalize('NFKC'));
  if (mobile) return `${mobile.slice(0, 3)}****${mobile.slice(7)}`;
  const compact = phone.normalize('NFKC').replace(/[\s()（）]/g, '');
  const land = LANDLINE_RE.exec(compact);
  if (land) return `${land[1]}-****${land[2]!.slice(-4)}`;
  return phone.length <= 4 ? '****' : `****${phone.slice(-4)}`;
}

/** 王小明 -> 王**; 欧阳娜娜 -> 欧***; single character stays masked as "*". */
export function maskName(name: string | null | undefined): string {
  if (!name) return '';
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

/** Last 4 digits of a phone number, the second fact used when binding an account. */
export function phoneLast4(phone: string): string {
  return phone.replace(/\D/g, '').slice(-4);
}
