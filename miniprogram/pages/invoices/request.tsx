import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Checkbox, Text, View } from '@tarojs/components';
import {
  ERRORS,
  INVOICE_DELIVERY_NOTE,
  INVOICE_GUIDE,
  INVOICE_TITLE_KIND_LABEL,
  fromWechatInvoiceTitle,
  type InvoiceTitleKind,
  type RequestInvoice as InvoiceRequestBody,
} from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { invoicesApi } from '../../services/api/invoices';
import { accountsApi } from '../../services/api/accounts';
import { paymentsApi } from '../../services/api/billing';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { IS_H5 } from '../../services/session';
import { Field, LoadError, Segmented } from '../../components/ui';
import { askSubscribe, subscribeToast, type SubscribeOutcome } from '../../services/subscribe';

type Form = {
  kind: InvoiceTitleKind;
  name: string;
  taxId: string;
  address: string;
  phone: string;
  bank: string;
  bankAccount: string;
  email: string;
  isDefault: boolean;
};
const EMPTY: Form = { kind: 'personal', name: '', taxId: '', address: '', phone: '', bank: '', bankAccount: '', email: '', isDefault: false };

/** What the resident reads when they pick 专票 for residential heat: refused before any field is typed. */
const SPECIAL_RULE = `${ERRORS.INVOICE_SPECIAL_NOT_ALLOWED.message}（专票仅限非居民商业用热）。单位报销请选择“单位”，开具普通发票。`;

/**
 * 申请电子发票: what exists and what each needs (one screen), then a saved title or a new one.
 * With `invoiceId`: 更换抬头 of an issued invoice (red reversal and re-issue, once per payment).
 */
export default function RequestInvoice() {
  const { params } = useRouter();
  const orderId = Number(params.orderId);
  /** changing the title of this invoice (from 我的发票, or confirmed after INVOICE_EXISTS_OTHER_TITLE) */
  const retitleOf = params.invoiceId ? Number(params.invoiceId) : null;
  const [chosen, setChosen] = useState<number | 'new'>('new');
  const [form, setForm] = useState<Form>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [needsConfirm, setNeedsConfirm] = useState<string | null>(null);
  const [confirmTaxId, setConfirmTaxId] = useState(false);
  const [alert, setAlert] = useState('');
  const [busy, setBusy] = useState(false);

  const saved = useData(async () => {
    const r = await invoicesApi.titles();
    if (r.items.length) setChosen(r.items[0]!.id);
    return r.items;
  });
  const titles = saved.data ?? [];
  // residential heat can't have a 专票: known before the resident types the extra fields
  const heat = useData(async () => {
    const [order, accounts] = await Promise.all([paymentsApi.get({ orderId }, { quiet: true }), accountsApi.list({ quiet: true })]);
    return accounts.items.find((a) => a.accountNo === order.accountNo)?.use ?? null;
  });
  // unknown (still loading, or not found): the server decides on submit
  const residential = heat.data === 'residential';
  const chosenKind = chosen === 'new' ? form.kind : titles.find((t) => t.id === chosen)?.kind;
  const specialRefused = chosenKind === 'vat_special' && residential;

  const set = (k: keyof Form) => (v: string) => setForm({ ...form, [k]: v });

  const fromWechat = async () => {
    try {
      const t = await (Taro as any).chooseInvoiceTitle();
      const m = fromWechatInvoiceTitle(t);
      setForm({ ...EMPTY, ...Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)), isDefault: form.isDefault } as Form);
      setChosen('new');
    } catch {
      /* the resident closed WeChat's list */
    }
  };

  /** the title as the server takes it: a saved one or the new one */
  const titleBody = () =>
    chosen === 'new'
      ? { title: Object.fromEntries(Object.entries({ ...form, confirmTaxId }).filter(([, v]) => v !== '')) as InvoiceRequestBody['title'] }
      : { titleId: chosen };

  /** 更换抬头: reverse and re-issue (the server refuses a second change with a clear message) */
  const changeTitle = async (invoiceId: number, asked: Promise<SubscribeOutcome>) => {
    await invoicesApi.changeTitle({ id: invoiceId }, { ...titleBody(), ...(form.email ? { email: form.email } : {}) }, { quiet: true });
    const tip = subscribeToast(await asked);
    Taro.showToast({ title: tip ? `已提交更换抬头，${tip}` : '已提交更换抬头', icon: tip ? 'none' : 'success' });
    // from 我的发票: back to it (it reloads on show); from the receipt: on to it
    if (retitleOf && Taro.getCurrentPages().length > 1) void Taro.navigateBack();
    else void nav.redirect(PAGES.invoices);
  };

  const submit = async () => {
    // in the tap, before any await: the 开票成功 message (one per 允许)
    const asked = askSubscribe('invoice');
    setAlert('');
    setErrors({});
    if (specialRefused) return setAlert(SPECIAL_RULE);
    setBusy(true);
    try {
      if (retitleOf) return await changeTitle(retitleOf, asked);
      try {
        await invoicesApi.request({ orderId, ...titleBody(), ...(form.email && chosen !== 'new' ? { email: form.email } : {}) }, { quiet: true });
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'INVOICE_EXISTS_OTHER_TITLE') throw e;
        // already invoiced with another title (e.g. automatically, with the personal one): confirm the change
        const ok = await Taro.showModal({
          title: '更换发票抬头',
          content: `这笔缴费已开具抬头为“${e.details?.titleName ?? ''}”的发票。更换后原发票将红冲作废，按新抬头重新开具，每笔缴费只能更换一次。确定更换吗？`,
          confirmText: '确定更换',
        });
        if (!ok.confirm) return setAlert(`这笔缴费已开具抬头为“${e.details?.titleName ?? ''}”的发票，可在“我的发票”中查看。`);
        return await changeTitle(e.details.invoiceId, asked);
      }
      const tip = subscribeToast(await asked);
      Taro.showToast({ title: tip ? `已提交开票申请，${tip}` : '已提交开票申请', icon: tip ? 'none' : 'success' });
      void nav.redirect(PAGES.invoices);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const next: Record<string, string> = {};
      for (const f of (e.details?.fields ?? []) as { field: string; message: string; params?: any }[]) {
        const key = f.field.replace(/^title\./, '');
        next[key] ??= f.message;
        if (key === 'taxId' && f.params?.needsConfirm) setNeedsConfirm(f.message);
      }
      setErrors(next);
      if (!Object.keys(next).length) setAlert(e.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <View className='page'>
      {retitleOf ? (
        <View className='notice' data-retitle-notice>
          更换发票抬头：原发票将开具红字发票冲销作废，再按新抬头重新开具同样金额的发票，完成后通过微信通知您。每笔缴费只能更换一次抬头。
        </View>
      ) : null}
      <View className='card invoice-guide'>
        <View className='card-title'>可开具的发票</View>
        {INVOICE_GUIDE.map((g) => (
          <View className='list-item' key={g.kind}>
            <View className='strong'>{g.title}</View>
            <View className='muted'>需要：{g.needs}</View>
            <View className='muted'>{g.note}</View>
          </View>
        ))}
        <View className='notice'>{INVOICE_DELIVERY_NOTE}</View>
      </View>

      <View className='card'>
        <View className='card-title'>发票抬头</View>
        <LoadError error={saved.error} onRetry={saved.reload} />
        {specialRefused ? (
          <View className='alert' data-special-rule>
            {SPECIAL_RULE}
          </View>
        ) : null}
        {titles.map((t) => (
          <View className={`list-item row title-option ${chosen === t.id ? 'title-chosen' : ''}`} key={t.id} onClick={() => setChosen(t.id)}>
            <View>
              <View className='strong'>{t.name}</View>
              <View className='muted'>
                {INVOICE_TITLE_KIND_LABEL[t.kind]}
                {t.taxId ? ` · ${t.taxId}` : ''}
              </View>
            </View>
            <Text className='link'>{chosen === t.id ? '已选' : '选择'}</Text>
          </View>
        ))}
        <View className={`list-item row title-option ${chosen === 'new' ? 'title-chosen' : ''}`} onClick={() => setChosen('new')}>
          <Text className='strong'>填写新抬头</Text>
          {!IS_H5 ? (
            <Text className='link' onClick={fromWechat}>
              从微信选择
            </Text>
          ) : null}
        </View>
        {chosen === 'new' ? (
          <View className='title-form'>
            <Segmented<InvoiceTitleKind>
              options={(['personal', 'company', 'vat_special'] as const).map((k) => ({
                value: k,
                label: k === 'personal' ? '个人' : k === 'company' ? '单位' : '专票',
              }))}
              value={form.kind}
              onChange={(kind) => setForm({ ...form, kind })}
            />
            <Field
              label={form.kind === 'personal' ? '姓名' : '单位名称'}
              name='titleName'
              value={form.name}
              error={errors.name}
              onInput={set('name')}
              maxlength={100}
            />
            {form.kind !== 'personal' ? (
              <Field
                label='纳税人识别号'
                name='taxId'
                value={form.taxId}
                placeholder='18位统一社会信用代码'
                error={errors.taxId}
                onInput={(v) => {
                  setNeedsConfirm(null);
                  setConfirmTaxId(false);
                  set('taxId')(v);
                }}
                maxlength={20}
              />
            ) : null}
            {needsConfirm ? (
              <View className='notice row' onClick={() => setConfirmTaxId(!confirmTaxId)}>
                <Checkbox value='confirm' checked={confirmTaxId} />
                <Text>该代码校验位与国家标准不符。部分早期代码确实如此，请核对营业执照，确认无误后勾选再提交。</Text>
              </View>
            ) : null}
            {form.kind === 'vat_special' && residential ? null : form.kind === 'vat_special' ? (
              <View>
                <Field label='注册地址' name='address' value={form.address} error={errors.address} onInput={set('address')} />
                <Field label='注册电话' name='phone' value={form.phone} error={errors.phone} onInput={set('phone')} />
                <Field label='开户银行' name='bank' value={form.bank} error={errors.bank} onInput={set('bank')} />
                <Field label='银行账号' name='bankAccount' value={form.bankAccount} error={errors.bankAccount} onInput={set('bankAccount')} />
              </View>
            ) : null}
            <View className='row' onClick={() => setForm({ ...form, isDefault: !form.isDefault })}>
              <Checkbox value='default' checked={form.isDefault} />
              <Text className='muted'>设为默认抬头（以后缴费成功后自动开票）</Text>
            </View>
          </View>
        ) : null}
        <Field label='接收邮箱（选填）' name='email' value={form.email} error={errors.email} onInput={set('email')} placeholder='开具后发送PDF到邮箱' />
      </View>
      {alert ? (
        <View className='alert' data-submit-alert>
          {alert}
        </View>
      ) : null}
      <View className={`btn btn-primary ${specialRefused ? 'btn-disabled' : ''}`} onClick={busy ? undefined : submit}>
        {busy ? '正在提交…' : retitleOf ? '确认更换抬头' : '提交开票申请'}
      </View>
    </View>
  );
}
