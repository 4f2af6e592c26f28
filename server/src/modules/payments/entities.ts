import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { OrderState, RefundKind, RefundState } from '@heat-butler/shared';
import { instant, money } from '../../platform/db/columns';

/**
 * One WeChat Pay order (`out_trade_no`): for one bill, or (一键缴清) for every unpaid bill of one
 * account, oldest first, with one PaymentOrderLine per bill (billCount > 1; billId is then the
 * oldest bill's, and the amounts are the lines' sums).
 */
@Entity('payment_order')
@Index('idx_order_state_created', ['status', 'createdAt'])
@Index('idx_order_bill', ['billId'])
@Index('idx_order_resident', ['residentId'])
export class PaymentOrder {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_order_out_trade_no', { unique: true })
  @Column({ type: 'varchar', length: 32 })
  outTradeNo: string;

  @Column({ type: 'int' })
  billId: number;

  /** how many bills the order pays: 1, or the number of its lines (一键缴清) */
  @Column({ type: 'int', default: 1 })
  billCount: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'varchar', length: 64 })
  openid: string;

  @Column({ type: 'varchar', length: 127 })
  description: string;

  /** what the resident pays: the bill's due amount when the order was created */
  @Column(money())
  amountFen: number;

  @Column(money({ default: 0 }))
  discountFen: number;

  @Column(money({ default: 0 }))
  lateFeeFen: number;

  @Column({ type: 'varchar', length: 8 })
  status: OrderState;

  /**
   * `${billId}:${residentId}` while pending, NULL otherwise: the database allows one pending
   * order per bill and payer, so a second tap gets the same order. A pay-all order's key is
   * `A` + a hash of account, payer and bill set (payAllKey): the same set gets the same order.
   */
  @Index('uq_order_pending_key', { unique: true })
  @Column({ type: 'varchar', length: 24, nullable: true })
  pendingKey: string | null;

  /** the wx.requestPayment parameters (no secret: they are only valid with this prepay id) */
  @Column({ type: 'simple-json', nullable: true })
  payParams: Record<string, string> | null;

  @Index('uq_order_transaction_id', { unique: true })
  @Column({ type: 'varchar', length: 32, nullable: true })
  transactionId: string | null;

  @Column(instant())
  expiresAt: Date;

  @Column(instant({ nullable: true }))
  paidAt: Date | null;

  /** how the payment became known: notify, query (resident's confirm) or sweep */
  @Column({ type: 'varchar', length: 8, nullable: true })
  creditedBy: 'notify' | 'query' | 'sweep' | 'recon' | null;

  /** paid after the bill had been paid by another order: refunded automatically */
  @Column({ type: 'boolean', default: false })
  duplicate: boolean;

  @Column(money({ default: 0 }))
  refundedFen: number;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/**
 * One bill of a pay-all order (一键缴清): what the order pays for it, priced like the bill view
 * when the order was created. Lines are written oldest season first (by id).
 */
@Entity('payment_order_line')
@Index('uq_order_line', ['orderId', 'billId'], { unique: true })
@Index('idx_order_line_bill', ['billId'])
export class PaymentOrderLine {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  orderId: number;

  @Column({ type: 'int' })
  billId: number;

  @Column(money())
  amountFen: number;

  @Column(money({ default: 0 }))
  discountFen: number;

  @Column(money({ default: 0 }))
  lateFeeFen: number;
}

/** A refund of all or part of a paid order (`out_refund_no`). */
@Entity('refund')
@Index('idx_refund_order', ['orderId'])
@Index('idx_refund_status', ['status'])
export class Refund {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_refund_out_refund_no', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  outRefundNo: string;

  @Column({ type: 'int' })
  orderId: number;

  @Column(money())
  amountFen: number;

  @Column({ type: 'varchar', length: 12 })
  kind: RefundKind;

  @Column({ type: 'varchar', length: 80 })
  reason: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  rulingRef: string | null;

  /**
   * A refund of a pay-all order: how much comes off each bill (decided when the refund is made:
   * the bill named, else newest bill first). NULL for an order of one bill.
   */
  @Column({ type: 'simple-json', nullable: true })
  lines: { billId: number; amountFen: number }[] | null;

  @Column({ type: 'varchar', length: 12 })
  status: RefundState;

  @Column({ type: 'varchar', length: 32, nullable: true })
  refundId: string | null;

  /** staff who asked for it; NULL = the system (duplicate payment) */
  @Column({ type: 'int', nullable: true })
  requestedBy: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  failure: string | null;

  @Column(instant({ nullable: true }))
  succeededAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/**
 * The money ledger: one row per fen movement WeChat confirmed, per bill. `tradeRef` names the
 * movement as WeChat's trade bill does (`pay:<out_trade_no>`, `refund:<out_refund_no>`); `ref` is
 * unique: the tradeRef itself for an order of one bill, `<tradeRef>:<billId>` for each bill of a
 * pay-all order. So a movement is recorded exactly once, split per bill, and its entries sum to
 * WeChat's amount (reconciliation matches by tradeRef).
 */
@Entity('ledger_entry')
@Index('idx_ledger_at', ['at'])
@Index('idx_ledger_trade_ref', ['tradeRef'])
export class LedgerEntry {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_ledger_ref', { unique: true })
  @Column({ type: 'varchar', length: 80 })
  ref: string;

  @Column({ type: 'varchar', length: 80 })
  tradeRef: string;

  @Column({ type: 'varchar', length: 8 })
  kind: 'payment' | 'refund';

  /** payments positive, refunds negative */
  @Column(money())
  amountFen: number;

  @Column({ type: 'int' })
  orderId: number;

  @Column({ type: 'int', nullable: true })
  refundId: number | null;

  @Column({ type: 'int' })
  billId: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'varchar', length: 32 })
  outTradeNo: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  transactionId: string | null;

  /** when WeChat says the money moved */
  @Column(instant())
  at: Date;

  @CreateDateColumn(instant())
  createdAt: Date;
}

/** Something WeChat told us that we could not apply (amount mismatch, unknown order): for finance. */
@Entity('payment_anomaly')
export class PaymentAnomaly {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 24 })
  kind: 'amount_mismatch' | 'merchant_mismatch' | 'unknown_order' | 'unknown_refund';

  /** `${kind}:${out_trade_no or out_refund_no}` — one row per problem however often it is told */
  @Index('uq_anomaly_key', { unique: true })
  @Column({ type: 'varchar', length: 120 })
  key: string;

  @Column({ type: 'varchar', length: 64 })
  outTradeNo: string;

  @Column({ type: 'simple-json' })
  detail: Record<string, unknown>;

  @Column({ type: 'boolean', default: false })
  resolved: boolean;

  @CreateDateColumn(instant())
  createdAt: Date;
}

export const paymentsEntities = [PaymentOrder, PaymentOrderLine, Refund, LedgerEntry, PaymentAnomaly];
