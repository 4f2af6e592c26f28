/**
 * The admin module's spreadsheets, all through the platform's XLSX writer: the import template,
 * an import's problems, and the streamed exports of accounts (in the import's shape, so the file
 * can be imported again), bills and payments (money as yuan numbers, times in China time).
 */
import type { Readable } from 'node:stream';
import {
  ACCOUNT_STATUS_LABEL,
  ACCOUNT_USE_LABEL,
  BILL_KIND_LABEL,
  BILL_STATUS_LABEL,
  HOUSEHOLD_COLUMNS,
  arrearsHeader,
  fenToYuanString,
} from '@heat-butler/shared';
import { errorSummary } from '../../platform/errors';
import { sheet, xlsxBuffer, xlsxStream, type XlsxColumn } from '../../platform/xlsx';
import type { AdminDeps } from './service';
import type { HouseholdImporter } from './import';

type AccountRow = Record<string, string>;

/** Pages of `size` by id until one comes back empty. */
async function* paged<T>(page: (after: number) => Promise<T[]>, idOf: (row: T) => number): AsyncGenerator<T> {
  for (let after = 0; ;) {
    const rows = await page(after);
    if (!rows.length) return;
    yield* rows;
    after = idOf(rows[rows.length - 1]!);
  }
}

const IMPORT_NOTES: [string, string][] = [
  ['户号', '必填，6-20位数字或大写字母；再次导入时按户号更新，不会重复'],
  ['片区编码', '必填，须为系统中已有的片区编码（片区管理中查看）'],
  ['楼栋 / 楼栋地址', '必填；同一片区同名楼栋视为同一栋楼，地址须一致'],
  ['单元 / 房号', '必填，如 1 / 1202；同一房间只能有一个户号'],
  ['户主姓名', '必填，住户绑定户号时核对'],
  ['联系电话', '选填，11位手机号或带区号的座机号'],
  ['供热面积（㎡）', '必填，大于0，最多两位小数'],
  ['用途', '必填：居民 或 非居民'],
  ['状态', '选填：正常供热（默认）、已报停、已封阀、已销户'],
  ['欠费YYYY-YYYY（元）', '选填，可有多列，每列一个采暖季；金额单位元，最多两位小数；该采暖季须已在系统中添加'],
  ['校验', '导入前逐行校验，有任何问题时一次列出所有问题行，且不写入任何数据'],
];

/** Household columns in the import's shape; text cells (account numbers, units, rooms, phones keep their leading zeros). */
function householdColumns(seasons: string[]): XlsxColumn<AccountRow>[] {
  const text = new Set(['accountNo', 'unitNo', 'roomNo', 'contactPhone', 'heatedArea']);
  return [
    ...HOUSEHOLD_COLUMNS.map((c) => ({
      header: c.header,
      width: c.width,
      value: (r: AccountRow) => r[c.key],
      format: text.has(c.key) ? ('text' as const) : undefined,
    })),
    ...seasons.map((s) => ({ header: arrearsHeader(s), width: 16, value: (r: AccountRow) => r[`s:${s}`], format: 'text' as const })),
  ];
}

export class AdminExports {
  constructor(
    private d: AdminDeps,
    private imports: HouseholdImporter,
  ) {}

  private onError = (err: unknown) => this.d.log.error({ error: errorSummary(err) }, 'export failed');

  /** The import template: Chinese headers, one example row, and a sheet of instructions. */
  async template(): Promise<Buffer> {
    const seasons = await this.d.billing.seasons();
    const season = seasons[seasons.length > 1 ? 1 : 0]?.code ?? '2025-2026';
    const example: AccountRow = { ...Object.fromEntries(HOUSEHOLD_COLUMNS.map((c) => [c.key, c.example])), [`s:${season}`]: '2430.50' };
    return xlsxBuffer([
      sheet<AccountRow>({ name: '住户', columns: householdColumns([season]), rows: [example] }),
      sheet<[string, string]>({
        name: '填写说明',
        freezeHeader: false,
        columns: [
          { header: '列', width: 18, value: (r) => r[0] },
          { header: '说明', width: 80, value: (r) => r[1] },
        ],
        rows: IMPORT_NOTES,
      }),
    ]);
  }

  /** Every problem of an import as a sheet: row, column, value, message. */
  async importReport(jobId: number): Promise<Buffer> {
    type Issue = Awaited<ReturnType<HouseholdImporter['issues']>>[number];
    return xlsxBuffer([
      sheet<Issue>({
        name: '导入问题',
        columns: [
          { header: '行号', width: 8, value: (i) => i.row, format: 'int' },
          { header: '列', width: 18, value: (i) => i.column },
          { header: '填写的内容', width: 28, value: (i) => i.value, format: 'text' },
          { header: '问题', width: 60, value: (i) => i.message },
        ],
        rows: await this.imports.issues(jobId),
      }),
    ]);
  }

  /** Every account in the import's shape (so the file can be imported again), streamed. */
  async accounts(): Promise<Readable> {
    const seasons = await this.d.billing.seasonsWithUnpaid();
    const d = this.d;
    async function* rows(): AsyncGenerator<AccountRow> {
      for (let after = 0; ;) {
        const page = await d.accounts.exportPage(after, 2000);
        if (!page.length) return;
        const unpaid = await d.billing.unpaidByAccount(page.map((a) => a.id));
        for (const a of page) {
          const row: AccountRow = {
            accountNo: a.accountNo,
            areaCode: a.areaCode,
            buildingName: a.buildingName,
            buildingAddress: a.buildingAddress,
            unitNo: a.unitNo,
            roomNo: a.roomNo,
            ownerName: a.ownerName,
            contactPhone: a.contactPhone ?? '',
            heatedArea: (a.heatedArea / 100).toFixed(2),
            use: ACCOUNT_USE_LABEL[a.use],
            status: ACCOUNT_STATUS_LABEL[a.status],
          };
          for (const u of unpaid.get(a.id) ?? []) row[`s:${u.season}`] = fenToYuanString(u.fen);
          yield row;
        }
        after = page[page.length - 1]!.id;
      }
    }
    return xlsxStream([sheet<AccountRow>({ name: '住户', columns: householdColumns(seasons), rows })], { onError: this.onError });
  }

  async bills(seasonCode?: string): Promise<Readable> {
    const seasonId = seasonCode ? (await this.d.billing.seasonByCode(seasonCode)).id : null;
    type Row = Awaited<ReturnType<AdminDeps['billing']['exportPage']>>[number];
    return xlsxStream(
      [
        sheet<Row>({
          name: '账单',
          rows: () =>
            paged(
              (after) => this.d.billing.exportPage(seasonId, after, 2000),
              (r) => r.bill.id,
            ),
          columns: [
            { header: '户号', width: 14, value: (r) => r.accountNo, format: 'text' },
            { header: '采暖季', width: 12, value: (r) => r.season },
            { header: '类型', width: 16, value: (r) => BILL_KIND_LABEL[r.bill.kind] },
            { header: '状态', width: 8, value: (r) => BILL_STATUS_LABEL[r.bill.status] },
            { header: '供热面积（㎡）', width: 12, value: (r) => r.bill.heatedArea, format: 'yuan' }, // hundredths of ㎡, like fen
            { header: '单价（元/㎡）', width: 12, value: (r) => r.bill.unitPriceFen, format: 'yuan' },
            { header: '应收（元）', width: 12, value: (r) => r.bill.chargeFen, format: 'yuan' },
            { header: '已缴（元）', width: 12, value: (r) => r.bill.paidFen, format: 'yuan' },
            { header: '优惠（元）', width: 10, value: (r) => r.bill.discountFen, format: 'yuan' },
            { header: '滞纳金（元）', width: 10, value: (r) => r.bill.lateFeeFen, format: 'yuan' },
            { header: '欠费（元）', width: 12, value: (r) => (r.bill.status === 'unpaid' ? r.bill.chargeFen - r.bill.paidFen : 0), format: 'yuan' },
            { header: '缴费方式', width: 10, value: (r) => (r.bill.paidVia === 'wechat' ? '微信支付' : r.bill.paidVia === 'counter' ? '营业厅' : null) },
            { header: '缴费时间', width: 20, value: (r) => r.bill.paidAt, format: 'chinaTime' },
          ],
        }),
      ],
      { onError: this.onError },
    );
  }

  /** Payments credited between two China dates (inclusive). */
  async payments(fromDate: string, toDate: string): Promise<Readable> {
    const from = new Date(`${fromDate}T00:00:00+08:00`);
    const to = new Date(new Date(`${toDate}T00:00:00+08:00`).getTime() + 86_400_000);
    const d = this.d;
    type Order = Awaited<ReturnType<AdminDeps['payments']['paidBetween']>>[number];
    async function* rows(): AsyncGenerator<Order & { accountNo: string }> {
      for (let after = 0; ;) {
        const page = await d.payments.paidBetween(from, to, after, 2000);
        if (!page.length) return;
        const accounts = await d.accounts.accountNosByIds(page.map((o) => o.accountId));
        for (const o of page) yield { ...o, accountNo: accounts.get(o.accountId) ?? '' };
        after = page[page.length - 1]!.id;
      }
    }
    return xlsxStream(
      [
        sheet<Order & { accountNo: string }>({
          name: '缴费',
          rows,
          columns: [
            { header: '商户订单号', width: 26, value: (o) => o.outTradeNo, format: 'text' },
            { header: '微信支付单号', width: 32, value: (o) => o.transactionId, format: 'text' },
            { header: '户号', width: 14, value: (o) => o.accountNo, format: 'text' },
            { header: '账单编号', width: 10, value: (o) => o.billId, format: 'int' },
            // 一键缴清 pays several bills (账单编号 is the oldest); the ledger has each bill's part
            { header: '账单数', width: 8, value: (o) => o.billCount, format: 'int' },
            { header: '金额（元）', width: 12, value: (o) => o.amountFen, format: 'yuan' },
            { header: '优惠（元）', width: 10, value: (o) => o.discountFen, format: 'yuan' },
            { header: '滞纳金（元）', width: 10, value: (o) => o.lateFeeFen, format: 'yuan' },
            { header: '已退款（元）', width: 12, value: (o) => o.refundedFen, format: 'yuan' },
            { header: '重复支付', width: 8, value: (o) => (o.duplicate ? '是' : null) },
            { header: '支付时间', width: 20, value: (o) => o.paidAt, format: 'chinaTime' },
          ],
        }),
      ],
      { onError: this.onError },
    );
  }
}
