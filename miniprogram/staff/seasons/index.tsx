import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Picker, Text, View } from '@tarojs/components';
import { formatFen, seasonCodeOf, seasonLabel, seasonStartYear, yuanToFen, type SeasonInput, type SeasonView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { billingApi } from '../../services/api/billing';
import { me } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError } from '../../components/ui';
import { IssueBills } from '../../components/issue-bills';
import { staffPage } from '../../components/staff-page';

type Form = {
  code: string;
  startDate: string;
  endDate: string;
  dueDate: string;
  residential: string;
  commercial: string;
  ratio: string;
  discount: string;
  discountUntil: string;
  lateFeeDaily: string;
  lateFeeCap: string;
};

/** A new season's form: the season after the newest one, its dates and prices copied as a start. */
function blank(latest: SeasonView | undefined): Form {
  const y = latest ? seasonStartYear(latest.code) + 1 : new Date().getFullYear();
  const shift = (d: string | null | undefined, fallback: string) => (d ? `${Number(d.slice(0, 4)) + 1}${d.slice(4)}` : fallback);
  return {
    code: seasonCodeOf(y),
    startDate: shift(latest?.startDate, `${y}-11-01`),
    endDate: shift(latest?.endDate, `${y + 1}-04-01`),
    dueDate: shift(latest?.dueDate, `${y}-12-31`),
    residential: latest ? String(latest.tariffs.residential / 100) : '',
    commercial: latest ? String(latest.tariffs.commercial / 100) : '',
    ratio: '',
    discount: latest ? String(latest.discountBp / 100) : '0',
    discountUntil: shift(latest?.discountUntil, ''),
    lateFeeDaily: latest ? String(latest.lateFeeDailyBp / 10) : '0',
    lateFeeCap: latest ? String(latest.lateFeeCapBp / 100) : '0',
  };
}

/** "30" (percent) → 3000 basis points; what doesn't parse goes to the server as typed, to be named at its field */
const bp = (text: string, per: number): number | string => {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) return t;
  const v = Math.round(n * per);
  return Math.abs(n * per - v) < 1e-6 ? v : t;
};

function toBody(f: Form): SeasonInput {
  const body: Record<string, unknown> = {
    code: f.code.trim(),
    startDate: f.startDate,
    endDate: f.endDate,
    dueDate: f.dueDate,
    tariffs: { residential: yuanToFen(f.residential) ?? f.residential, commercial: yuanToFen(f.commercial) ?? f.commercial },
    discountBp: bp(f.discount || '0', 100),
    discountUntil: f.discountUntil || null,
    lateFeeDailyBp: bp(f.lateFeeDaily || '0', 10),
    lateFeeCapBp: bp(f.lateFeeCap || '0', 100),
  };
  // left empty: the company's setting is copied in (the page says which)
  if (f.ratio.trim() !== '') body.baseFeeRatioBp = bp(f.ratio, 100);
  return body as SeasonInput;
}

/** server field paths → the form's fields */
const FIELD_OF: Record<string, keyof Form> = {
  'tariffs.residential': 'residential',
  'tariffs.commercial': 'commercial',
  baseFeeRatioBp: 'ratio',
  discountBp: 'discount',
  lateFeeDailyBp: 'lateFeeDaily',
  lateFeeCapBp: 'lateFeeCap',
};

function DateField(props: { label: string; name: string; value: string; error?: string; onChange: (v: string) => void; optional?: boolean }) {
  return (
    <View className='field'>
      <View className='field-label'>{props.label}</View>
      <View className='row'>
        <Picker mode='date' value={props.value || '2026-01-01'} onChange={(e) => props.onChange(String(e.detail.value))}>
          <View className={`input ${props.error ? 'input-error' : ''}`} data-date-field={props.name}>
            {props.value || '请选择日期'}
          </View>
        </Picker>
        {props.optional && props.value ? (
          <Text className='link' onClick={() => props.onChange('')}>
            清除
          </Text>
        ) : null}
      </View>
      {props.error ? <View className='field-error'>{props.error}</View> : null}
    </View>
  );
}

function SeasonCard(props: { s: SeasonView; current: boolean; canIssue: boolean }) {
  const { s } = props;
  const [open, setOpen] = useState(props.current);
  return (
    <View className='card' data-season={s.code}>
      <View className='row'>
        <Text className='strong'>{s.label}</Text>
        {props.current ? <Text className='tag'>当前出账采暖季</Text> : null}
      </View>
      <View className='muted'>
        供热 {s.startDate} 至 {s.endDate} · 缴费截止 {s.dueDate}
      </View>
      <View className='muted'>
        单价：居民 {formatFen(s.tariffs.residential)}/㎡，非居民 {formatFen(s.tariffs.commercial)}/㎡ · 报停基础热费 {s.baseFeeRatioBp / 100}%
      </View>
      <View className='muted'>
        {s.discountBp ? `早缴优惠 ${s.discountBp / 100}%（${s.discountUntil}前）` : '无早缴优惠'} ·{' '}
        {s.lateFeeDailyBp ? `滞纳金每日 ${s.lateFeeDailyBp / 10}‰，上限 ${s.lateFeeCapBp / 100}%` : '不收滞纳金'}
      </View>
      {open ? (
        <IssueBills season={s.code} canIssue={props.canIssue} />
      ) : (
        <View className='btn btn-plain' data-open-issue={s.code} onClick={() => setOpen(true)}>
          出账情况
        </View>
      )}
    </View>
  );
}

/**
 * 采暖季与出账 (admin, finance): the seasons with their tariffs; a new season (admin) with its
 * dates, prices and base-fee ratio (empty = the company's setting, said on the page); each
 * season's 出账 preview and issuing with progress.
 */
export default staffPage(['admin', 'finance'], function StaffSeasons() {
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const profile = useData(() => me(), []);
  const seasons = useData(() => billingApi.seasons({ quiet: true }), [], { onShow: true });
  const roles = profile.data?.kind === 'staff' ? profile.data.roles : [];
  const isAdmin = roles.includes('admin');
  const canIssue = isAdmin || roles.includes('finance');
  const data = seasons.data;
  const companyRatio = data ? `${data.baseFeeRatioBp / 100}%` : '';

  const set = (k: keyof Form) => (v: string) => {
    setForm((f) => (f ? { ...f, [k]: v } : f));
    setErrors((e) => ({ ...e, [k]: '' }));
  };

  const create = async () => {
    if (!form || busy) return;
    setBusy(true);
    setErrors({});
    try {
      const s = await billingApi.createSeason(toBody(form), { quiet: true });
      Taro.showToast({ title: `已创建${s.label}`, icon: 'success' });
      setForm(null);
      await seasons.reload();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const out: Record<string, string> = {};
      for (const f of (e.details?.fields ?? []) as { field: string; message: string }[]) out[FIELD_OF[f.field] ?? f.field] ??= f.message;
      if (!Object.keys(out).length) out.form = e.code === 'SEASON_EXISTS' ? `${seasonLabel(form.code)}已存在` : e.message;
      setErrors(out);
    } finally {
      setBusy(false);
    }
  };

  return (
    <View className='page admin-page'>
      <LoadError error={seasons.error} onRetry={seasons.reload} />
      {isAdmin && data && !form ? (
        <View className='btn btn-primary' data-new-season onClick={() => setForm(blank(data.items[0]))}>
          新建采暖季
        </View>
      ) : null}
      {form ? (
        <View className='card' data-season-form>
          <View className='card-title'>新建采暖季</View>
          <Field label='采暖季（如 2027-2028）' name='code' value={form.code} error={errors.code} onInput={set('code')} maxlength={9} />
          <DateField label='供热开始日期' name='startDate' value={form.startDate} error={errors.startDate} onChange={set('startDate')} />
          <DateField label='供热结束日期' name='endDate' value={form.endDate} error={errors.endDate} onChange={set('endDate')} />
          <DateField label='缴费截止日期（次日起计滞纳金）' name='dueDate' value={form.dueDate} error={errors.dueDate} onChange={set('dueDate')} />
          <Field
            label='居民单价（元/㎡·采暖季）'
            name='residential'
            type='digit'
            value={form.residential}
            error={errors.residential}
            onInput={set('residential')}
          />
          <Field
            label='非居民单价（元/㎡·采暖季）'
            name='commercial'
            type='digit'
            value={form.commercial}
            error={errors.commercial}
            onInput={set('commercial')}
          />
          <Field
            label='报停基础热费比例（%）'
            name='ratio'
            type='digit'
            placeholder={`留空则按公司设置 ${companyRatio}`}
            value={form.ratio}
            error={errors.ratio}
            onInput={set('ratio')}
          />
          <View className='muted' data-ratio-note>
            留空时采用公司设置中的“报停基础热费比例”（当前 {companyRatio}），创建后该采暖季的账单都按此比例计算，之后修改公司设置不影响本采暖季。
          </View>
          <Field label='早缴优惠（%，0 表示无）' name='discount' type='digit' value={form.discount} error={errors.discount} onInput={set('discount')} />
          <DateField
            label='早缴优惠截止日期'
            name='discountUntil'
            value={form.discountUntil}
            error={errors.discountUntil}
            onChange={set('discountUntil')}
            optional
          />
          <Field
            label='滞纳金每日比例（‰，0 表示不收）'
            name='lateFeeDaily'
            type='digit'
            value={form.lateFeeDaily}
            error={errors.lateFeeDaily}
            onInput={set('lateFeeDaily')}
          />
          <Field label='滞纳金上限（%）' name='lateFeeCap' type='digit' value={form.lateFeeCap} error={errors.lateFeeCap} onInput={set('lateFeeCap')} />
          {errors.form ? <View className='alert'>{errors.form}</View> : null}
          <View className='row admin-actions'>
            <View className={`btn btn-primary ${busy ? 'btn-disabled' : ''}`} data-create-season onClick={() => void create()}>
              创建采暖季
            </View>
            <View className='btn btn-plain' onClick={() => setForm(null)}>
              取消
            </View>
          </View>
        </View>
      ) : null}
      {data && !data.items.length ? <Empty>还没有采暖季，请先新建</Empty> : null}
      {data?.items.map((s) => (
        <SeasonCard key={s.code} s={s} current={s.code === data.current} canIssue={canIssue} />
      ))}
    </View>
  );
});
