import { useState, type ReactNode } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Switch, Text, View } from '@tarojs/components';
import {
  AUDIT_TARGET_LABEL,
  DOCUMENT_LABEL,
  STAFF_ROLE_LABEL,
  auditFieldLabel,
  documentLabel,
  fenToYuanString,
  formatChinaTime,
  REPAIR_CATEGORY_LABEL,
  formatFen,
  yuanToFen,
  type AuditEntryView,
  type CompanySettings,
  type CompanySettingsInput,
  type RepairCategory,
  type StaffRole,
} from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { adminApi } from '../../services/api/admin';
import { asApiError } from '../../services/use-data';
import { Field, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

/** int/num: as stored; pct: basis points shown as a percentage (3000 ↔ 30) */
type Kind = 'text' | 'int' | 'num' | 'pct';
type FieldSpec = { path: string; label: string; kind: Kind; placeholder?: string };
type Section = { title: string; note?: string; fields: FieldSpec[] };

const SECTIONS: Section[] = [
  {
    title: '公司',
    fields: [
      { path: 'name', label: '公司名称', kind: 'text' },
      { path: 'hotline', label: '服务热线', kind: 'text', placeholder: '例如 0431-88888888' },
    ],
  },
  {
    title: '采暖季与报停/复供',
    note: '日期格式 MM-DD（如 09-20）。报停基础热费比例是新建采暖季的默认值：保存后只用于之后新建的采暖季；已有采暖季的账单按该采暖季自己的比例计费。',
    fields: [
      { path: 'rules.seasonStart', label: '采暖季开始（MM-DD）', kind: 'text' },
      { path: 'rules.seasonEnd', label: '采暖季结束（MM-DD，次年）', kind: 'text' },
      { path: 'rules.changeDeadline', label: '报停/复供申请截止日（MM-DD）', kind: 'text' },
      { path: 'rules.baseFeeRatioBp', label: '报停基础热费比例（%，新建采暖季的默认值）', kind: 'pct' },
      { path: 'rules.serviceChange.maxChangesPerSeason', label: '每户每采暖季最多变更次数', kind: 'int' },
    ],
  },
  {
    title: '维修时限（分钟）',
    note: '服务热线24小时受理，维修时限全天计算；免打扰时段（HH:mm）只用于回访和预约上门。各报修类型的派单、到场时限见下方。',
    fields: [
      { path: 'rules.sla.registerMinutes', label: '登记（紧急报修联系住户）', kind: 'int' },
      { path: 'rules.sla.routineContactMinutes', label: '一般报修：联系住户', kind: 'int' },
      { path: 'rules.sla.routineDoneMinutes', label: '一般报修：完成', kind: 'int' },
      { path: 'rules.sla.emergencyOnSiteMinutes', label: '住户标记紧急的一般类型：到场', kind: 'int' },
      { path: 'rules.sla.emergencyReportMinutes', label: '紧急报修：完工后报告结果', kind: 'int' },
      { path: 'rules.sla.callbackMinutes', label: '回访', kind: 'int' },
      { path: 'rules.sla.callbackRetryMinutes', label: '回访未接通：再次回访间隔', kind: 'int' },
      { path: 'rules.sla.callbackMaxAttempts', label: '回访未接通：最多拨打次数（次）', kind: 'int' },
      { path: 'rules.sla.quietStart', label: '免打扰开始（HH:mm）', kind: 'text' },
      { path: 'rules.sla.quietEnd', label: '免打扰结束（HH:mm）', kind: 'text' },
    ],
  },
  {
    title: '维修规则',
    note: '有偿维修的价格在住户确认前告知（价目表见下方）。',
    fields: [
      { path: 'rules.repairs.grabTimeoutMinutes', label: '抢单模式：无人抢单几分钟后自动派单（分钟）', kind: 'int' },
      { path: 'rules.repairs.urgeIntervalMinutes', label: '超时工单住户催单间隔（分钟）', kind: 'int' },
      { path: 'rules.repairs.appointmentChanges', label: '住户可修改预约上门时间的次数（次）', kind: 'int' },
      { path: 'rules.repairs.appointmentNoticeMinutes', label: '修改预约须提前（分钟）', kind: 'int' },
      { path: 'rules.repairs.escalateToHeadMinutes', label: '超时工单到主管后仍超时，升级到部门负责人（分钟）', kind: 'int' },
      { path: 'rules.repairs.bookingHorizonDays', label: '住户最多可预约几天内上门（天）', kind: 'int' },
      { path: 'rules.repairs.unsatisfiedBelowStars', label: '评价低于几星视为不满意（星）', kind: 'int' },
      { path: 'rules.repairs.watchList.buildingComplaintHouseholds', label: '一个采暖季楼栋投诉户数达到几户列入隐患台账（户）', kind: 'int' },
      { path: 'rules.repairs.watchList.repeatedLowTempTickets', label: '一户室温不达标报修达到几次列入关注名单（次）', kind: 'int' },
      { path: 'rules.repairs.watchList.remeasureBelowC', label: '低温报修时室温低于几度，修复后需复测（℃）', kind: 'num' },
      { path: 'rules.repairs.watchList.remeasureAfterMinutes', label: '修复后几分钟复测室温（分钟）', kind: 'int' },
      { path: 'rules.measurementRefund.percent', label: '三方测温不达标：按不达标天数退还热费的比例（%）', kind: 'int' },
    ],
  },
  {
    title: '投诉时限（小时）',
    note: '投诉自受理起计时；经住户同意可延长一次（长春：24小时，同意后72小时；哈尔滨：最长48小时）。超时后先升级主管，再按“升级到部门负责人”的分钟数升级。',
    fields: [
      { path: 'rules.complaints.closeHours', label: '一般办结时限', kind: 'int' },
      { path: 'rules.complaints.agreedCloseHours', label: '住户同意延长后的办结时限', kind: 'int' },
      { path: 'rules.complaints.callbackHours', label: '处理后回访时限', kind: 'int' },
    ],
  },
  {
    title: '室温',
    fields: [
      { path: 'rules.minTemperatureC', label: '最低室温（℃）', kind: 'num' },
      { path: 'rules.promisedTemperatureC', label: '承诺室温（℃）', kind: 'num' },
    ],
  },
  {
    title: '保存期限',
    note: '到期的照片每小时自动删除；证件照片只保存审核所需的时间。',
    fields: [
      { path: 'rules.retention.photoDays', label: '照片保存天数', kind: 'int' },
      { path: 'rules.retention.documentDays', label: '报停/复供证件照片保存天数', kind: 'int' },
    ],
  },
  {
    title: '电子发票',
    note: '税收分类编码为19位数字。',
    fields: [
      { path: 'rules.invoice.commercialRateBp', label: '非居民用热税率（%）', kind: 'pct' },
      { path: 'rules.invoice.goodsName', label: '开票项目名称', kind: 'text' },
      { path: 'rules.invoice.goodsCode', label: '税收分类编码', kind: 'text' },
      { path: 'rules.invoice.sellerTaxId', label: '销售方税号', kind: 'text' },
    ],
  },
];
const BOOLS = [
  { path: 'rules.serviceChange.noResumeAfterStopInSameSeason', label: '当季已报停的不能再复供' },
  { path: 'rules.serviceChange.resumeRequiresArrearsCleared', label: '复供前须缴清往年欠费（报停始终需要）' },
  { path: 'rules.billing.noLateFeeWhileHeatOff', label: '停热（报停、封阀）期间不计滞纳金' },
  { path: 'rules.measurementRefund.payAfterSeason', label: '测温裁定退费在采暖季结束后统一支付' },
  { path: 'rules.invoice.residentialExempt', label: '居民用热免征增值税' },
  { path: 'rules.invoice.autoIssue', label: '缴费后按默认抬头自动开票' },
];
const DOCS = 'rules.serviceChange.requiredDocuments';
const VALVE = 'rules.serviceChange.stopValveAction';
const WINDOWS = 'rules.measurementWindows';
const PRICES = 'rules.repairs.priceList';
type PriceRow = { code: string; name: string; price: string };
const CATS = 'rules.repairs.categories';
const DISPATCH_MODE = 'rules.repairs.dispatchMode';
type CatRow = { category: RepairCategory; emergency: boolean; dispatchMinutes: string; onSiteMinutes: string };
/** one-of settings, shown as a segmented control in their section (after its fields and documents) */
const CHOICES: { section: string; path: string; label: string; options: { value: string; label: string }[] }[] = [
  {
    section: '采暖季与报停/复供',
    path: VALVE,
    label: '报停时阀门处理',
    options: [
      { value: 'close', label: '关阀' },
      { value: 'seal', label: '关阀并加封' },
    ],
  },
  {
    section: '维修规则',
    path: DISPATCH_MODE,
    label: '派单方式',
    options: [
      { value: 'auto', label: '自动派单' },
      { value: 'grab', label: '抢单（超时自动派单）' },
    ],
  },
];
const NUMERIC = new Map(
  SECTIONS.flatMap((s) => s.fields)
    .filter((f) => f.kind !== 'text')
    .map((f) => [f.path, f.kind]),
);
const RENDERED = [...SECTIONS.flatMap((s) => s.fields.map((f) => f.path)), ...BOOLS.map((b) => b.path), DOCS, ...CHOICES.map((c) => c.path)];

const getAt = (o: any, path: string): any => path.split('.').reduce((v, k) => (v == null ? v : v[k]), o);
function setAt<T>(o: T, path: string, value: unknown): T {
  const copy: any = structuredCloneSafe(o);
  const keys = path.split('.');
  let cur = copy;
  for (const k of keys.slice(0, -1)) cur = cur[k] ??= {};
  cur[keys[keys.length - 1]!] = value;
  return copy;
}
function structuredCloneSafe<T>(o: T): T {
  return JSON.parse(JSON.stringify(o));
}

/** The form holds what was typed (numbers as text; percentages and 元 as people write them); the body converts what parses and lets the server name the rest. */
function toForm(s: CompanySettings): any {
  let f: any = structuredCloneSafe(s);
  for (const [p, kind] of NUMERIC) {
    const v = getAt(s, p);
    f = setAt(f, p, v == null ? '' : kind === 'pct' ? String(v / 100) : String(v));
  }
  const prices: PriceRow[] = (getAt(s, PRICES) ?? []).map((x: any) => ({ code: x.code, name: x.name, price: fenToYuanString(x.priceFen) }));
  const cats: CatRow[] = (getAt(s, CATS) ?? []).map((c: any) => ({ ...c, dispatchMinutes: String(c.dispatchMinutes), onSiteMinutes: String(c.onSiteMinutes) }));
  return setAt(setAt(f, PRICES, prices), CATS, cats);
}
/** (what was typed: the server's schema decides, every wrong field reported at its field) */
function toBody(f: any): CompanySettingsInput {
  let b: any = structuredCloneSafe(f);
  for (const [p, kind] of NUMERIC) {
    const t = String(getAt(f, p) ?? '').trim();
    const n = Number(t);
    if (kind === 'pct') {
      // "30" → 3000 basis points; more than two decimals is left for the server to refuse
      const bp = Math.round(n * 100);
      b = setAt(b, p, t !== '' && Number.isFinite(n) && Math.abs(n * 100 - bp) < 1e-6 ? bp : t === '' ? null : n);
    } else {
      b = setAt(b, p, t !== '' && Number.isFinite(n) && (kind === 'num' || Number.isInteger(n)) ? n : t);
    }
  }
  const prices = ((getAt(f, PRICES) ?? []) as PriceRow[]).map((r) => ({ code: r.code, name: r.name, priceFen: yuanToFen(r.price) ?? r.price }));
  const num = (t: string) => (/^\d+$/.test(t.trim()) ? Number(t.trim()) : t);
  const cats = ((getAt(f, CATS) ?? []) as CatRow[]).map((c) => ({ ...c, dispatchMinutes: num(c.dispatchMinutes), onSiteMinutes: num(c.onSiteMinutes) }));
  return setAt(setAt(b, PRICES, prices), CATS, cats) as CompanySettingsInput;
}
/** a code for a new price-list item: the server needs one, the admin never sees it */
const newCode = (rows: PriceRow[]) => {
  let i = rows.length + 1;
  while (rows.some((r) => r.code === `item_${i}`)) i++;
  return `item_${i}`;
};

function flatten(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else if (prefix) out[prefix] = v;
  return out;
}
const show = (v: unknown, path = ''): string => {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (typeof v === 'string' && path.endsWith('dispatchMode')) return v === 'grab' ? '抢单' : '自动派单';
  if (typeof v === 'string') return path.endsWith('stopValveAction') ? (v === 'seal' ? '关阀并加封' : '关阀') : v;
  if (path.endsWith('repairs.categories') && Array.isArray(v))
    return v
      .map(
        (c: any) =>
          `${REPAIR_CATEGORY_LABEL[c.category as RepairCategory] ?? c.category}${c.emergency ? '（紧急）' : ''} 派单${c.dispatchMinutes}分 到场${c.onSiteMinutes}分`,
      )
      .join('、');
  if (path === 'roles' && Array.isArray(v)) return v.map((r) => STAFF_ROLE_LABEL[r as StaffRole] ?? r).join('、') || '—';
  if (path.endsWith('measurementWindows') && Array.isArray(v)) return v.map((w: any) => `${w.start}–${w.end}`).join('、');
  if (path.endsWith('priceList') && Array.isArray(v)) return v.map((x: any) => `${x.name} ${formatFen(x.priceFen)}`).join('、');
  if (path.endsWith('requiredDocuments') && Array.isArray(v)) return v.map((k) => documentLabel(String(k))).join('、') || '—';
  if (typeof v === 'number' && /RatioBp$|RateBp$/.test(path)) return `${v / 100}%`;
  if (Array.isArray(v)) return v.join('、') || '—';
  return JSON.stringify(v);
};

/** the messages of the errors `keep` picks, each under the list it belongs to */
function FieldErrors(props: { errors: Record<string, string>; keep: (key: string) => boolean }) {
  return (
    <>
      {Object.entries(props.errors)
        .filter(([k]) => props.keep(k))
        .map(([k, m]) => (
          <View key={k} className='field-error'>
            {m}
          </View>
        ))}
    </>
  );
}

/** a list setting edited row by row (price list, measurement windows): each row's fields, 删除, ＋ 添加, the list's own errors */
function RowList<T>(props: {
  label: string;
  rows: T[];
  rowKey: (row: T, i: number) => string | number;
  fields: (row: T, i: number) => ReactNode;
  onChange: (rows: T[]) => void;
  newRow: () => T;
  addLabel: string;
  errors: Record<string, string>;
  listErrors: (key: string) => boolean;
  data: Record<string, boolean>;
}) {
  return (
    <View className='field' {...props.data}>
      <View className='field-label'>{props.label}</View>
      {props.rows.map((row, i) => (
        <View key={props.rowKey(row, i)} className='row admin-window'>
          {props.fields(row, i)}
          <Text className='link' onClick={() => props.onChange(props.rows.filter((_, k) => k !== i))}>
            删除
          </Text>
        </View>
      ))}
      <Text className='link' onClick={() => props.onChange([...props.rows, props.newRow()])}>
        {props.addLabel}
      </Text>
      <FieldErrors errors={props.errors} keep={props.listErrors} />
    </View>
  );
}

function changes(e: AuditEntryView): string[] {
  const before = flatten(e.before);
  const after = flatten(e.after);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.map((k) => `${auditFieldLabel(e.action, k)}：${show(before[k], k)} → ${show(after[k], k)}`);
}

/** 公司设置 (admin): name, hotline and the company rules; every field error from the server at its field; the audit log. */
export default staffPage(['admin'], function AdminSettings() {
  const [auditError, setAuditError] = useState<ApiError | null>(null);
  const [form, setForm] = useState<any>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [audit, setAudit] = useState<{ items: AuditEntryView[]; total: number } | null>(null);
  const [page, setPage] = useState(1);

  const loadAudit = async (p = page) => {
    try {
      setAudit(await adminApi.audit({ page: p, pageSize: 20 }, { quiet: true }));
      setPage(p);
      setAuditError(null);
    } catch (e) {
      setAuditError(asApiError(e));
    }
  };
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const load = async () => {
    setForm(toForm(await adminApi.settings({ quiet: true })));
    setErrors({});
    setLoadError(null);
    await loadAudit(1);
  };
  useDidShow(() => void load().catch((e) => setLoadError(asApiError(e))));

  const set = (path: string, v: unknown) => {
    setSaved(false);
    setForm((f: any) => setAt(f, path, v));
  };

  const save = async () => {
    if (saving) return;
    setSaving(true);
    setSaved(false);
    try {
      setForm(toForm(await adminApi.updateSettings(toBody(form), { quiet: true })));
      setErrors({});
      setSaved(true);
      Taro.showToast({ title: '已保存', icon: 'success' });
      await loadAudit(1);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const fields = e.fields;
      setErrors(Object.keys(fields).length ? fields : { '(form)': e.message });
    } finally {
      setSaving(false);
    }
  };

  if (!form)
    return (
      <View className='page'>
        <LoadError error={loadError} onRetry={() => void load().catch((e) => setLoadError(asApiError(e)))} />
      </View>
    );
  const errCount = Object.keys(errors).length;
  const otherErrors = Object.entries(errors).filter(
    ([k]) => !k.startsWith(WINDOWS) && !k.startsWith(DOCS) && !k.startsWith(PRICES) && !k.startsWith(CATS) && !RENDERED.includes(k),
  );
  const cats: CatRow[] = getAt(form, CATS) ?? [];
  const windows: { start: string; end: string }[] = getAt(form, WINDOWS) ?? [];
  const prices: PriceRow[] = getAt(form, PRICES) ?? [];
  const docs: string[] = getAt(form, DOCS) ?? [];

  return (
    <View className='page admin-page'>
      {errCount ? (
        <View className='alert' data-settings-errors={errCount}>
          有 {errCount} 处需要修改，见各项下方的红字。
          {otherErrors.map(([k, m]) => (
            <View key={k}>{k === '(form)' ? m : `${k}：${m}`}</View>
          ))}
        </View>
      ) : null}
      {saved ? (
        <View className='notice' data-settings-saved>
          已保存。新设置只对之后发生的业务生效。
        </View>
      ) : null}

      {SECTIONS.map((s) => (
        <View key={s.title} className='card'>
          <View className='card-title'>{s.title}</View>
          {s.note ? <View className='muted admin-note'>{s.note}</View> : null}
          {s.fields.map((f) => (
            <Field
              key={f.path}
              name={f.path}
              label={f.label}
              type={f.kind === 'text' ? 'text' : 'digit'}
              placeholder={f.placeholder}
              maxlength={100}
              value={String(getAt(form, f.path) ?? '')}
              error={errors[f.path]}
              onInput={(v) => set(f.path, v)}
            />
          ))}
          {s.title === '采暖季与报停/复供' ? (
            <View className='field' data-docs>
              <View className='field-label'>申请必须上传的材料</View>
              {[...new Set([...Object.keys(DOCUMENT_LABEL), ...docs])].map((k) => (
                <View key={k} className='row'>
                  <Text>{documentLabel(k)}</Text>
                  <Switch checked={docs.includes(k)} onChange={(e) => set(DOCS, e.detail.value ? [...docs, k] : docs.filter((d) => d !== k))} />
                </View>
              ))}
              <FieldErrors errors={errors} keep={(k) => k.startsWith(DOCS)} />
            </View>
          ) : null}
          {CHOICES.filter((c) => c.section === s.title).map((c) => (
            <View key={c.path} className='field'>
              <View className='field-label'>{c.label}</View>
              <Segmented options={c.options} value={getAt(form, c.path)} onChange={(v) => set(c.path, v)} />
              {errors[c.path] ? <View className='field-error'>{errors[c.path]}</View> : null}
            </View>
          ))}
          {s.title === '维修时限（分钟）' ? (
            <View className='field' data-repair-categories>
              <View className='field-label'>各报修类型：是否紧急、派单时限、到场时限（分钟）</View>
              {cats.map((c, i) => (
                <View key={c.category} className='row admin-window' data-category={c.category}>
                  <Text>{REPAIR_CATEGORY_LABEL[c.category] ?? c.category}</Text>
                  <Text className='muted'>紧急</Text>
                  <Switch checked={c.emergency} onChange={(e) => set(`${CATS}.${i}.emergency`, e.detail.value)} />
                  <Field
                    name={`${CATS}.${i}.dispatchMinutes`}
                    label='派单'
                    type='digit'
                    value={c.dispatchMinutes}
                    error={errors[`${CATS}.${i}.dispatchMinutes`]}
                    onInput={(v) => set(`${CATS}.${i}.dispatchMinutes`, v)}
                  />
                  <Field
                    name={`${CATS}.${i}.onSiteMinutes`}
                    label='到场'
                    type='digit'
                    value={c.onSiteMinutes}
                    error={errors[`${CATS}.${i}.onSiteMinutes`]}
                    onInput={(v) => set(`${CATS}.${i}.onSiteMinutes`, v)}
                  />
                </View>
              ))}
              <FieldErrors errors={errors} keep={(k) => k === CATS} />
            </View>
          ) : null}
          {s.title === '维修规则' ? (
            <RowList
              label='有偿维修价目表（元）'
              data={{ 'data-price-list': true }}
              rows={prices}
              rowKey={(row) => row.code}
              fields={(row, i) => (
                <>
                  <Field
                    name={`${PRICES}.${i}.name`}
                    label={`项目${i + 1}`}
                    value={row.name}
                    maxlength={30}
                    error={errors[`${PRICES}.${i}.name`] ?? errors[`${PRICES}.${i}.code`]}
                    onInput={(v) => set(`${PRICES}.${i}.name`, v)}
                  />
                  <Field
                    name={`${PRICES}.${i}.priceFen`}
                    label='价格（元）'
                    type='digit'
                    value={row.price}
                    error={errors[`${PRICES}.${i}.priceFen`]}
                    onInput={(v) => set(`${PRICES}.${i}.price`, v)}
                  />
                </>
              )}
              onChange={(rows) => set(PRICES, rows)}
              newRow={() => ({ code: newCode(prices), name: '', price: '' })}
              addLabel='＋ 添加项目'
              errors={errors}
              listErrors={(k) => k === PRICES}
            />
          ) : null}
          {s.title === '室温' ? (
            <RowList
              label='允许预约测温的时段（HH:mm）'
              data={{ 'data-windows': true }}
              rows={windows}
              rowKey={(_, i) => i}
              fields={(w, i) => (
                <>
                  <Field
                    name={`${WINDOWS}.${i}.start`}
                    label={`时段${i + 1} 开始`}
                    value={w.start}
                    error={errors[`${WINDOWS}.${i}.start`]}
                    onInput={(v) => set(`${WINDOWS}.${i}.start`, v)}
                  />
                  <Field
                    name={`${WINDOWS}.${i}.end`}
                    label='结束'
                    value={w.end}
                    error={errors[`${WINDOWS}.${i}.end`]}
                    onInput={(v) => set(`${WINDOWS}.${i}.end`, v)}
                  />
                </>
              )}
              onChange={(rows) => set(WINDOWS, rows)}
              newRow={() => ({ start: '', end: '' })}
              addLabel='＋ 添加时段'
              errors={errors}
              listErrors={(k) => k.startsWith(WINDOWS) && !/\.\d+\.(start|end)$/.test(k)}
            />
          ) : null}
          {s.title === '电子发票' || s.title === '采暖季与报停/复供'
            ? BOOLS.filter((b) => (s.title === '电子发票') === b.path.startsWith('rules.invoice')).map((b) => (
                <View key={b.path} className='field'>
                  <View className='row'>
                    <Text>{b.label}</Text>
                    <Switch checked={!!getAt(form, b.path)} onChange={(e) => set(b.path, e.detail.value)} />
                  </View>
                  {errors[b.path] ? <View className='field-error'>{errors[b.path]}</View> : null}
                </View>
              ))
            : null}
        </View>
      ))}

      <View className={`btn btn-primary${saving ? ' btn-disabled' : ''}`} data-save-settings onClick={save}>
        {saving ? '正在保存…' : '保存设置'}
      </View>
      <View className='btn btn-plain' onClick={() => void load().catch((e) => Taro.showToast({ title: asApiError(e).message, icon: 'none' }))}>
        放弃修改
      </View>

      <View className='card' data-audit>
        <View className='row'>
          <Text className='card-title'>操作记录</Text>
          <Text className='muted'>{audit ? `共 ${audit.total} 条` : ''}</Text>
        </View>
        <LoadError error={auditError} onRetry={() => void loadAudit()} />
        {audit?.items.map((e) => (
          <View key={e.id} className='list-item admin-audit' data-action={e.action}>
            <View className='row'>
              <Text className='strong'>{e.actionLabel}</Text>
              <Text className='muted'>{formatChinaTime(e.at)}</Text>
            </View>
            <View className='muted'>
              {e.actorName}
              {e.targetId ? ` · ${AUDIT_TARGET_LABEL[e.targetType] ?? e.targetType} ${e.targetId}` : ''}
            </View>
            {changes(e)
              .slice(0, 12)
              .map((c) => (
                <View key={c} className='admin-change'>
                  {c}
                </View>
              ))}
          </View>
        ))}
        {audit && audit.total > page * 20 ? (
          <Text className='link' onClick={() => void loadAudit(page + 1)}>
            下一页
          </Text>
        ) : null}
        {page > 1 ? (
          <Text className='link' style={{ marginLeft: '24px' }} onClick={() => void loadAudit(page - 1)}>
            上一页
          </Text>
        ) : null}
      </View>
    </View>
  );
});
