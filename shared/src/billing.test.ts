import { describe, expect, it } from 'vitest';
import { refundedByBill } from './billing';

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
