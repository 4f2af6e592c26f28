import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { InvoiceLine, InvoiceState, InvoiceTitleKind } from '@heat-butler/shared';
import { instant, money } from '../../platform/db/columns';

/** A resident's saved invoice title (发票抬头). */
@Entity('invoice_title')
@Index('idx_invoice_title_resident', ['residentId'])
export class InvoiceTitle {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'varchar', length: 12 })
  kind: InvoiceTitleKind;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 30, nullable: true })
  taxId: string | null;

  /** the resident confirmed a code whose GB 32100 check character looks wrong */
  @Column({ type: 'boolean', default: false })
  taxIdConfirmed: boolean;

  @Column({ type: 'varchar', length: 80, nullable: true })
  address: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 60, nullable: true })
  bank: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  bankAccount: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  email: string | null;

  @Column({ type: 'boolean', default: false })
  isDefault: boolean;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

export type TitleSnapshot = Pick<InvoiceTitle, 'kind' | 'name' | 'taxId' | 'address' | 'phone' | 'bank' | 'bankAccount'>;
/** the title (and mail address) a payment's invoice is being changed to */
export type NextTitle = TitleSnapshot & { email: string | null };
/** why a red invoice reverses its blue one: a refund changed the amount, or the resident changed the title */
export type RedReason = 'refund' | 'retitle';

/**
 * One e-invoice at the provider: a blue invoice for a payment's net amount, or the red one that
 * reverses it after a refund. `requestKey` is unique: one blue invoice per payment and
 * generation, one red invoice per blue one.
 */
@Entity('invoice')
@Index('idx_invoice_order', ['orderId'])
@Index('idx_invoice_resident', ['residentId'])
@Index('idx_invoice_status_created', ['status', 'createdAt'])
export class Invoice {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_invoice_request_key', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  requestKey: string;

  /** the provider's orderNo (idempotency key there) */
  @Index('uq_invoice_provider_order_no', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  providerOrderNo: string;

  @Column({ type: 'int' })
  orderId: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'varchar', length: 4 })
  direction: 'blue' | 'red';

  @Column({ type: 'int', default: 1 })
  generation: number;

  @Column({ type: 'int', nullable: true })
  originalInvoiceId: number | null;

  @Column({ type: 'varchar', length: 2 })
  line: InvoiceLine;

  @Column({ type: 'simple-json' })
  title: TitleSnapshot;

  @Column({ type: 'varchar', length: 100, nullable: true })
  email: string | null;

  /**
   * Title changes made on this payment's invoices up to this one (carried to later generations):
   * a payment's title can be changed once (INVOICE_TITLE_CHANGED_ONCE).
   */
  @Column({ type: 'int', default: 0 })
  retitles: number;

  /** a blue invoice being changed to another title: reversed, then re-issued with this one */
  @Column({ type: 'simple-json', nullable: true })
  nextTitle: NextTitle | null;

  /** a red invoice's reason (shown to the resident) */
  @Column({ type: 'varchar', length: 8, nullable: true })
  redReason: RedReason | null;

  /** tax-inclusive; negative for a red invoice */
  @Column(money())
  amountFen: number;

  @Column(money())
  taxFen: number;

  @Column({ type: 'varchar', length: 8 })
  rateLabel: string;

  @Column({ type: 'varchar', length: 10 })
  status: InvoiceState;

  @Column({ type: 'varchar', length: 40, nullable: true })
  providerSerial: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  number: string | null;

  @Column(instant({ nullable: true }))
  issuedAt: Date | null;

  /** the provider's link (may expire) and our archived copy */
  @Column({ type: 'varchar', length: 300, nullable: true })
  providerPdfUrl: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  pdfFile: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  failure: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

export const invoicesEntities = [InvoiceTitle, Invoice];
