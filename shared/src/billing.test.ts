import { describe, expect, it } from 'vitest';
import { quoteAmounts, quoteBill, refundedByBill } from './billing';

const refund = (amountFen: number, lines: { billId: number; amountFen: number }[] | null, status: 'success' | 'processing' = 'success') => ({
  amountFen,
  status,
  lines,
});

describe('refundedByBill', () => {
  it('puts a pay-all refund on the bills its lines name, not on the order’s oldest bill', () => {
    const orders = [
      // 一键缴清 of bills 1 (oldest) and 2: 300 off bill 2, then 500 split 400 / 100
      {
        billId: 1,
        refunds: [
          refund(300, [{ billId: 2, amountFen: 300 }]),
          refund(500, [
            { billId: 2, amountFen: 400 },
            { billId: 1, amountFen: 100 },
          ]),
        ],
      },
    ];
    expect([...refundedByBill(orders)].sort()).toEqual([
      [1, 100],
      [2, 700],
    ]);
  });

  it('puts an ordinary order’s refund on its bill and sums several orders', () => {
    const orders = [
      { billId: 3, refunds: [refund(200, null)] },
      { billId: 3, refunds: [refund(50, null)] },
      { billId: 4, refunds: [] },
    ];
    expect(refundedByBill(orders).get(3)).toBe(250);
    expect(refundedByBill(orders).has(4)).toBe(false);
  });

  it('counts only refunds that went through', () => {
    const orders = [{ billId: 5, refunds: [refund(200, null, 'processing'), refund(100, [{ billId: 5, amountFen: 100 }])] }];
    expect(refundedByBill(orders).get(5)).toBe(100);
  });
});

describe('quoteAmounts and quoteBill', () => {
  const season = { discountBp: 200, discountUntil: '2026-10-31', dueDate: '2026-12-31', lateFeeDailyBp: 10, lateFeeCapBp: 1000 };
  const lines = [{ label: '供热费', detail: '100.00㎡ × 30.00元/㎡', amountFen: 300_000 }];
  const bills = [
    { chargeFen: 300_000, paidFen: 0 },
    // a paid base fee re-opened for the difference, paid with a discount, later with a late fee
    { chargeFen: 300_000, paidFen: 120_000, discountFen: 2_400, lateFeeFen: 0 },
    { chargeFen: 300_000, paidFen: 120_000, discountFen: 0, lateFeeFen: 3_000 },
    { chargeFen: 300_000, paidFen: 300_000, discountFen: 0, lateFeeFen: 0 },
  ];
  // within the discount, due, a few days late, late past the cap
  const days = ['2026-10-01', '2026-12-31', '2027-01-10', '2027-12-31'];

  it('gives the same amounts: quoteBill is quoteAmounts with the lines that explain them', () => {
    let checked = 0;
    for (const bill of bills)
      for (const today of days)
        for (const heatOff of [false, true]) {
          const { lines: quoted, ...amounts } = quoteBill({ ...bill, lines }, season, today, { heatOff });
          expect(quoteAmounts(bill, season, today, { heatOff }), `${JSON.stringify(bill)} ${today} ${heatOff}`).toEqual(amounts);
          // the lines add up to what is due
          expect(quoted.reduce((sum, l) => sum + l.amountFen, 0)).toBe(amounts.dueFen);
          checked++;
        }
    expect(checked).toBe(32);
  });

  it('states the late fee with its days, and its cap once reached; none while heat is off', () => {
    const late = quoteBill({ chargeFen: 300_000, paidFen: 0, lines }, season, '2027-01-10');
    expect(late.lateFeeFen).toBe(3_000);
    expect(late.lines.at(-1)).toEqual({ label: '滞纳金', detail: '逾期10天 × 每日1‰（累计不超过10%）', amountFen: 3_000 });
    const capped = quoteBill({ chargeFen: 300_000, paidFen: 0, lines }, season, '2027-12-31');
    expect(capped.lateFeeFen).toBe(30_000);
    expect(capped.lines.at(-1)!.detail).toBe('逾期365天，每日1‰，累计超过10%上限，按上限10%收取');
    const off = quoteBill({ chargeFen: 300_000, paidFen: 0, lines }, season, '2027-01-10', { heatOff: true });
    expect(off.lateFeeFen).toBe(0);
    expect(off.lines.at(-1)).toEqual({ label: '滞纳金', detail: '逾期10天；停热（报停或封阀）期间不计滞纳金', amountFen: 0 });
  });
});
