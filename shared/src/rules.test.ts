import { describe, expect, it } from 'vitest';
import {
  applyBasisPoints,
  canTransition,
  fenToYuanString,
  formatFen,
  isAccountNo,
  isMobile,
  maskName,
  maskPhone,
  nextStates,
  normalizeAccountNo,
  normalizeMobile,
  toWechatTime,
  chinaDate,
  yuanToFen,
  BindRequest,
  CompanyRules,
  checkTaxId,
  usccCheckChar,
} from './index';

describe('money in fen', () => {
  it('formats at the edge with grouping and sign', () => {
    expect(formatFen(123456)).toBe('¥1,234.56');
    expect(formatFen(5)).toBe('¥0.05');
    expect(formatFen(-500)).toBe('-¥5.00');
    expect(formatFen(100000000)).toBe('¥1,000,000.00');
    expect(formatFen(199, { symbol: false })).toBe('1.99');
    expect(() => formatFen(1.5)).toThrow(RangeError);
  });

  it('parses yuan text exactly, without floating point', () => {
    expect(yuanToFen('0.29')).toBe(29); // 0.29 * 100 = 28.999999999999996 in floating point
    expect(yuanToFen('12')).toBe(1200);
    expect(yuanToFen('12.3')).toBe(1230);
    expect(yuanToFen('-0.05')).toBe(-5);
    expect(yuanToFen('1.234')).toBeNull();
    expect(yuanToFen('abc')).toBeNull();
    expect(fenToYuanString(-1)).toBe('-0.01');
    expect(fenToYuanString(123456)).toBe('1234.56');
  });

  it('applies a ratio in basis points, rounding half up', () => {
    expect(applyBasisPoints(10001, 3000)).toBe(3000); // 3000.3
    expect(applyBasisPoints(5, 3000)).toBe(2); // 1.5 -> 2
    expect(applyBasisPoints(123456, 10000)).toBe(123456);
  });
});

describe('people', () => {
  it('checks mainland mobile numbers including the newer ranges', () => {
    for (const ok of ['13812341234', '+8619212345678', '16212345678', '199 1234 5678', '8617012345678']) expect(isMobile(ok)).toBe(true);
    for (const bad of ['12812341234', '1381234123', '138123412345', '11012345678', '1441234567a']) expect(isMobile(bad)).toBe(false);
    expect(normalizeMobile('+86 138-1234-1234')).toBe('13812341234');
  });

  it('masks phones and names', () => {
    expect(maskPhone('13812341234')).toBe('138****1234');
    expect(maskPhone('+8613812341234')).toBe('138****1234');
    expect(maskPhone('0431-8888')).toBe('****8888');
    expect(maskPhone(null)).toBe('');
    expect(maskName('王小明')).toBe('王**');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('李')).toBe('*');
  });
});

describe('heating account numbers', () => {
  it('normalises what residents type and checks the format', () => {
    expect(normalizeAccountNo(' 0101-0101 01 ')).toBe('0101010101');
    expect(isAccountNo('0101 0101 01')).toBe(true);
    expect(isAccountNo('ab12345')).toBe(true);
    expect(isAccountNo('12345')).toBe(false);
    expect(isAccountNo('0101010101!')).toBe(false);
  });

  it('BindRequest reports every bad field at once, in Chinese', () => {
    const r = BindRequest.safeParse({ accountNo: '1', phoneLast4: 'abcd', relation: 'x' });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['accountNo', 'phoneLast4', 'relation']);
    for (const i of r.error!.issues) expect(i.message).toMatch(/[\u4e00-\u9fa5]/);
  });
});

describe('state machines as data', () => {
  const table = [
    { from: 'a', to: 'b', by: ['resident'] },
    { from: 'b', to: 'c', by: ['admin', 'system'] },
  ] as const;
  it('allows only listed moves by listed actors', () => {
    expect(canTransition(table, 'a', 'b', 'resident')).toBe(true);
    expect(canTransition(table, 'a', 'b', 'admin')).toBe(false);
    expect(canTransition(table, 'a', 'c', 'system')).toBe(false);
    expect(nextStates(table, 'b', 'system')).toEqual(['c']);
  });
});

describe('China time', () => {
  it('evaluates dates in Asia/Shanghai whatever the server zone', () => {
    expect(chinaDate(new Date('2026-09-20T15:59:59Z'))).toBe('2026-09-20');
    expect(chinaDate(new Date('2026-09-20T16:00:00Z'))).toBe('2026-09-21');
    expect(toWechatTime(new Date('2026-11-24T02:03:04.567Z'))).toBe('2026-11-24T10:03:04+08:00');
  });
});

describe('company rules', () => {
  it('fill defaults from the seeds and reject bad values', () => {
    const rules = CompanyRules.parse({});
    expect(rules.changeDeadline).toBe('09-20');
    expect(rules.sla.routineContactMinutes).toBe(30);
    expect(rules.sla.quietStart).toBe('20:00');
    expect(rules.retention.photoDays).toBe(1095);
    const bad = CompanyRules.safeParse({ changeDeadline: '9/20', baseFeeRatioBp: 12000 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['baseFeeRatioBp', 'changeDeadline']);
  });
});

describe('taxpayer ids', () => {
  it('accepts valid unified social credit codes', () => {
    for (const code of ['9144030010001686XA', '91520000214434146R', '911000001000013428', '91110000101623741K', '91350100M000100Y43'])
      expect(checkTaxId(code)).toEqual({ ok: true, kind: 'uscc', checksumOk: true });
  });

  it('flags a wrong check character for confirmation instead of refusing it', () => {
    const typo = checkTaxId('911100001000013428');
    expect(typo).toMatchObject({ ok: true, checksumOk: false, expected: 'C' });
    // a real early code that fails mod 31
    expect(checkTaxId('91350100M0001TGQXM')).toMatchObject({ ok: true, checksumOk: false, expected: '1' });
  });

  it('gives a precise Chinese error for malformed ids, and accepts legacy lengths', () => {
    expect(checkTaxId('91440300I0001686XA')).toMatchObject({ ok: false, message: expect.stringContaining('“I”') });
    expect(checkTaxId('9144AB0010001686XA')).toMatchObject({ ok: false, message: expect.stringContaining('第3至8位') });
    expect(checkTaxId('1234')).toMatchObject({ ok: false, message: expect.stringContaining('当前4位') });
    expect(checkTaxId('')).toMatchObject({ ok: false });
    expect(checkTaxId('110105123456789')).toEqual({ ok: true, kind: 'legacy' });
    expect(checkTaxId('11010512345678901X')).toMatchObject({ ok: true, kind: 'uscc' });
    expect(checkTaxId('44010619850101123X0')).toMatchObject({ ok: false });
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
  });
});
