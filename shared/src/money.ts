/** Money is an integer number of fen end to end. Format only at the edge. */

export type Fen = number;

export function assertFen(value: number): Fen {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer number of fen: ${value}`);
  return value;
}

/** 123456 -> "¥1,234.56"; -500 -> "-¥5.00". */
export function formatFen(fen: Fen, opts: { symbol?: boolean } = {}): string {
  assertFen(fen);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  const grouped = yuan.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${opts.symbol === false ? '' : '¥'}${grouped}.${cents.toString().padStart(2, '0')}`;
}

/** Fen as yuan with two decimals, no symbol or grouping ("1234.56"): WeChat bill files, exports. */
export function fenToYuanString(fen: Fen): string {
  assertFen(fen);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${(abs % 100).toString().padStart(2, '0')}`;
}

/**
 * Parse a yuan amount written with at most 2 decimals ("12", "12.3", "-0.05") into fen,
 * exactly (no floating point). Returns null for anything else.
 */
export function yuanToFen(text: string): Fen | null {
  const m = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(fen)) return null;
  return m[1] ? -fen : fen;
}

/** round(amount * ratio) with a ratio given in basis points (1/10000), half up, integer math. */
export function applyBasisPoints(fen: Fen, basisPoints: number): Fen {
  assertFen(fen);
  return Math.floor((fen * basisPoints + 5000) / 10000);
}
