/**
 * One day or a range as an XLSX workbook for finance: 对账汇总 (a row per date), 差异明细 (every
 * difference with both sides and its resolution, read from the database page by page), 重复支付
 * (pairs with their refunds), 自愈记录. Written with the platform's streaming writer.
 */
import type { Readable } from 'node:stream';
import {
  DUPLICATE_KEPT_VIA_LABELS,
  RESOLUTION_TYPE_LABELS,
  type DiscrepancyView,
  type DuplicatePaymentPair,
  type HealedItem,
  type ReconDayView,
} from '@heat-butler/shared';
import { sheet, xlsxStream } from '../../platform/xlsx';
import type { Logger } from '../../platform/logger';
import type { ReconReader } from './views';

const DISCREPANCY_STATUS_LABELS: Record<DiscrepancyView['status'], string> = { open: '待处理', resolved: '已处理' };
const HEAL_RESULT_LABELS: Record<string, string> = { credited: '已补记入账', duplicate: '补记为重复支付', already: '已入账', refund_success: '已补记退款' };
const json = (v: unknown) => (v ? JSON.stringify(v) : null);

export function reconciliationWorkbook(days: ReconDayView[], reader: ReconReader, log: Logger): Readable {
  const reconciled = days.filter((d) => d.status !== 'none');
  async function* discrepancies() {
    for (const d of reconciled) yield* reader.discrepancies(d);
  }
  async function* pairs() {
    for (const d of reconciled) for (const p of await reader.duplicatePairs(d.billDate)) yield { date: d.billDate, ...p };
  }
  function* healed() {
    for (const d of reconciled) for (const h of d.healed) yield { date: d.billDate, ...h };
  }
  return xlsxStream(
    [
      sheet<ReconDayView>({
        name: '对账汇总',
        rows: days,
        columns: [
          { header: '账单日期', width: 12, value: (d) => d.billDate },
          { header: '状态', width: 8, value: (d) => d.statusLabel },
          { header: '微信收款笔数', width: 12, value: (d) => d.wechat?.paymentCount, format: 'int' },
          { header: '微信收款金额', width: 14, value: (d) => d.wechat?.paymentFen, format: 'yuan' },
          { header: '微信退款笔数', width: 12, value: (d) => d.wechat?.refundCount, format: 'int' },
          { header: '微信退款金额', width: 14, value: (d) => d.wechat?.refundFen, format: 'yuan' },
          { header: '手续费', width: 10, value: (d) => d.wechat?.feeFen, format: 'yuan' },
          { header: '结算净额', width: 14, value: (d) => d.wechat?.netFen, format: 'yuan' },
          { header: '台账收款笔数', width: 12, value: (d) => d.ledger?.paymentCount, format: 'int' },
          { header: '台账收款金额', width: 14, value: (d) => d.ledger?.paymentFen, format: 'yuan' },
          { header: '台账退款金额', width: 14, value: (d) => d.ledger?.refundFen, format: 'yuan' },
          {
            header: '账单汇总核对',
            width: 12,
            value: (d) => (d.emptyBill ? '当日无账单' : d.summaryMatches === null ? null : d.summaryMatches ? '一致' : '不一致'),
          },
          { header: '一致', width: 8, value: (d) => d.classes?.matched, format: 'int' },
          { header: '自愈', width: 8, value: (d) => d.healed.length || null, format: 'int' },
          { header: '在途退款', width: 10, value: (d) => d.classes?.inTransit, format: 'int' },
          { header: '未处理差异', width: 10, value: (d) => d.openDiscrepancies, format: 'int' },
          { header: '差异总数', width: 10, value: (d) => d.totalDiscrepancies, format: 'int' },
          { header: '重复支付', width: 10, value: (d) => d.classes?.duplicatePaid, format: 'int' },
          { header: '最近对账', width: 20, value: (d) => d.lastRunAt, format: 'chinaTime' },
          { header: '最近错误', width: 30, value: (d) => d.lastError },
        ],
      }),
      sheet<DiscrepancyView>({
        name: '差异明细',
        rows: discrepancies,
        columns: [
          { header: '账单日期', width: 12, value: (x) => x.billDate },
          { header: '类型', width: 14, value: (x) => x.kindLabel },
          { header: '商户订单号', width: 28, value: (x) => x.outTradeNo, format: 'text' },
          { header: '商户退款单号', width: 28, value: (x) => x.outRefundNo, format: 'text' },
          { header: '差额（微信-台账）', width: 16, value: (x) => x.diffFen, format: 'yuan' },
          { header: '状态', width: 8, value: (x) => DISCREPANCY_STATUS_LABELS[x.status] },
          { header: '处理方式', width: 16, value: (x) => (x.resolution ? RESOLUTION_TYPE_LABELS[x.resolution] : null) },
          { header: '处理说明', width: 30, value: (x) => x.note },
          { header: '处理人', width: 10, value: (x) => x.resolvedBy },
          { header: '处理时间', width: 20, value: (x) => x.resolvedAt, format: 'chinaTime' },
          { header: '微信侧', width: 60, value: (x) => json(x.wechat) },
          { header: '台账侧', width: 60, value: (x) => json(x.ledger) },
        ],
      }),
      sheet<DuplicatePaymentPair & { date: string }>({
        name: '重复支付',
        rows: pairs,
        columns: [
          { header: '账单日期', width: 12, value: (p) => p.date },
          { header: '账单ID', width: 10, value: (p) => p.billId, format: 'int' },
          { header: '先入账方式', width: 10, value: (p) => (p.keptVia ? DUPLICATE_KEPT_VIA_LABELS[p.keptVia] : null) },
          { header: '柜台缴费时间', width: 20, value: (p) => p.counterPaidAt, format: 'chinaTime' },
          { header: '入账的支付', width: 28, value: (p) => p.kept?.outTradeNo, format: 'text' },
          { header: '入账金额', width: 12, value: (p) => p.kept?.amountFen, format: 'yuan' },
          { header: '重复的支付', width: 28, value: (p) => p.duplicate.outTradeNo, format: 'text' },
          { header: '微信支付单号', width: 32, value: (p) => p.duplicate.transactionId, format: 'text' },
          { header: '重复金额', width: 12, value: (p) => p.duplicate.amountFen, format: 'yuan' },
          { header: '退款单号', width: 30, value: (p) => p.refund?.outRefundNo, format: 'text' },
          { header: '退款金额', width: 12, value: (p) => p.refund?.amountFen, format: 'yuan' },
          { header: '退款状态', width: 10, value: (p) => p.refund?.statusLabel },
          { header: '未退回', width: 12, value: (p) => p.outstandingFen, format: 'yuan' },
          { header: '状态', width: 12, value: (p) => p.stateLabel },
        ],
      }),
      sheet<HealedItem & { date: string }>({
        name: '自愈记录',
        rows: healed,
        columns: [
          { header: '账单日期', width: 12, value: (h) => h.date },
          { header: '记录', width: 34, value: (h) => h.ref, format: 'text' },
          { header: '商户订单号', width: 28, value: (h) => h.outTradeNo, format: 'text' },
          { header: '金额', width: 12, value: (h) => h.amountFen, format: 'yuan' },
          { header: '结果', width: 14, value: (h) => HEAL_RESULT_LABELS[h.result] ?? h.result },
        ],
      }),
    ],
    { onError: (err) => log.error({ err: (err as Error)?.message }, 'reconciliation export failed') },
  );
}
