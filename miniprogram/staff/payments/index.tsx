import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import { formatChinaTime, formatFen, ORDER_STATE_LABEL, REFUND_KIND_LABEL, REFUND_STATE_LABEL, yuanToFen, type PaymentOrderView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { paymentsApi } from '../../services/api/billing';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';
import { DeskLayout, useDesk } from '../../components/desk-layout';

/** billId: the bill of a multi-bill order the refund comes off ('' : the server's default, newest bill first) */
type Refunding = { amount: string; reason: string; rulingRef: string; kind: 'ruling' | 'other'; billId: string; errors: Record<string, string> };
const EMPTY_FORM: Refunding = { amount: '', reason: '', rulingRef: '', kind: 'ruling', billId: '', errors: {} };

/** A refund's split over the bills of a pay-all order ("2024—2025采暖季 ¥100.00 · …"); '' for an ordinary order. */
function refundSplit(o: PaymentOrderView, r: PaymentOrderView['refunds'][number]): string {
  if (!r.lines?.length || o.bills.length < 2) return '';
  return r.lines.map((l) => `${o.bills.find((b) => b.billId === l.billId)?.seasonLabel ?? `账单${l.billId}`} ${formatFen(l.amountFen)}`).join(' · ');
}

/** 支付与退费 (finance): find a payment by number, refund all or part with a reason and the ruling it follows. */
export default staffPage(['finance', 'admin'], function StaffPayments() {
  const [q, setQ] = useState('');
  const [open, setOpen] = useState<number | null>(null);
  const desk = useDesk();
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [form, setForm] = useState<Refunding>(EMPTY_FORM);

  // paid orders, the newest or the one searched for (查询 loads again with the number typed)
  const paid = useData(() => paymentsApi.staffList({ status: 'paid', page: 1, pageSize: 30, no: q.trim() || undefined }), [], { onShow: true });
  const items = paid.data?.items;
  const load = paid.reload;

  const refund = async (o: PaymentOrderView) => {
    const amountFen = yuanToFen(form.amount);
    if (amountFen === null) return setForm({ ...form, errors: { amountFen: '请输入正确的金额（元，最多两位小数）' } });
    // a refund goes back to the resident's WeChat and can't be undone: say exactly what will happen first
    const off = o.bills.find((b) => String(b.billId) === form.billId);
    const { confirm } = await Taro.showModal({
      title: '确认退款',
      content: `向户号 ${o.accountNo} 退还 ${formatFen(amountFen)}（订单 ${o.outTradeNo}，实付 ${formatFen(o.amountFen)}${off ? `，退${off.seasonLabel}账单` : ''}）。款项原路退回住户微信，提交后不能撤销。`,
      confirmText: '确认退款',
      cancelText: '再看看',
      confirmColor: '#c92a2a',
    });
    if (!confirm) return;
    try {
      await paymentsApi.refund(
        { orderId: o.id },
        {
          amountFen,
          reason: form.reason,
          kind: form.kind,
          ...(form.rulingRef ? { rulingRef: form.rulingRef } : {}),
          ...(off ? { billId: off.billId } : {}),
        },
        { quiet: true },
      );
      Taro.showToast({ title: '已提交退款', icon: 'success' });
      setOpen(null);
      setForm(EMPTY_FORM);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const errors = e.fields;
      if (!Object.keys(errors).length)
        errors.amountFen = e.message + (e.details?.refundableFen !== undefined ? `（可退 ${formatFen(e.details.refundableFen)}）` : '');
      setForm({ ...form, errors });
    }
  };

  /** an order with its refunds and the refund form (phone: every order; desk: the selected one, beside the list) */
  const card = (o: PaymentOrderView) => (
    <View className='card' key={o.id} data-out-trade-no={o.outTradeNo}>
      <View className='row'>
        <Text className='strong'>{o.outTradeNo}</Text>
        <Text className='amount'>{formatFen(o.amountFen)}</Text>
      </View>
      <View className='muted'>
        户号 {o.accountNo} · {o.seasonLabel} · {ORDER_STATE_LABEL[o.status]}
        {o.paidAt ? ` · ${formatChinaTime(o.paidAt)}` : ''}
      </View>
      {o.refunds.map((r) => (
        <View className='muted' key={r.id}>
          {REFUND_KIND_LABEL[r.kind]} {formatFen(r.amountFen)} · {REFUND_STATE_LABEL[r.status]} · {r.reason}
          {r.rulingRef ? `（${r.rulingRef}）` : ''}
          {refundSplit(o, r) ? <View data-refund-split>{refundSplit(o, r)}</View> : null}
        </View>
      ))}
      {open === o.id ? (
        <View>
          <Segmented<'ruling' | 'other'>
            options={[
              { value: 'ruling', label: '测温裁定退费' },
              { value: 'other', label: '其他退费' },
            ]}
            value={form.kind}
            onChange={(kind) => setForm({ ...form, kind })}
          />
          {o.bills.length > 1 ? (
            <View data-refund-bill>
              <View className='muted'>退哪一期账单（一键缴清的订单）</View>
              <Segmented<string>
                options={[{ value: '', label: '从最新一期起' }, ...[...o.bills].reverse().map((b) => ({ value: String(b.billId), label: b.seasonLabel }))]}
                value={form.billId}
                onChange={(billId) => setForm({ ...form, billId })}
              />
              {form.errors.billId ? <View className='field-error'>{form.errors.billId}</View> : null}
            </View>
          ) : null}
          <Field
            label='退款金额（元）'
            name='refundAmount'
            type='digit'
            value={form.amount}
            error={form.errors.amountFen}
            onInput={(v) => setForm({ ...form, amount: v })}
          />
          <Field
            label='退款原因'
            name='refundReason'
            value={form.reason}
            error={form.errors.reason}
            onInput={(v) => setForm({ ...form, reason: v })}
            maxlength={80}
          />
          {form.kind === 'ruling' ? (
            <Field
              label='裁定单号（三方测温记录）'
              name='rulingRef'
              value={form.rulingRef}
              error={form.errors.rulingRef}
              onInput={(v) => setForm({ ...form, rulingRef: v })}
            />
          ) : null}
          <View className='btn btn-danger' data-refund-submit onClick={() => void refund(o)}>
            退款
          </View>
        </View>
      ) : o.refundedFen < o.amountFen ? (
        <View
          className='btn btn-plain'
          data-refund-open
          onClick={() => {
            setOpen(o.id);
            setForm({ ...form, billId: '' });
          }}
        >
          退款
        </View>
      ) : null}
    </View>
  );
  // at a desk the newest payment shows until another is picked
  const selected = items?.find((o) => o.id === selectedId) ?? items?.[0] ?? null;

  return (
    <View className='page desk-page'>
      <View className='card row'>
        <Input className='input' value={q} placeholder='商户订单号或微信支付单号' onInput={(e) => setQ(e.detail.value)} />
        <Text className='link' style={{ marginLeft: '12px' }} onClick={() => void load()}>
          查询
        </Text>
      </View>
      <LoadError error={paid.error} onRetry={load} />
      {items && !items.length ? <Empty>没有找到已支付的订单</Empty> : null}
      <DeskLayout
        desk={desk}
        phone='inline'
        empty='在左侧选择一笔缴费查看详情、办理退费'
        list={
          desk
            ? items?.map((o) => (
                <View
                  key={o.id}
                  className={`card desk-item ${o.id === selected?.id ? 'desk-selected' : ''}`}
                  data-payment-row={o.outTradeNo}
                  onClick={() => setSelectedId(o.id)}
                >
                  <View className='row'>
                    <Text className='strong'>户号 {o.accountNo}</Text>
                    <Text className='amount'>{formatFen(o.amountFen)}</Text>
                  </View>
                  <View className='muted'>
                    {o.seasonLabel} · {ORDER_STATE_LABEL[o.status]}
                    {o.paidAt ? ` · ${formatChinaTime(o.paidAt)}` : ''}
                    {o.refunds.length ? ` · 退款${o.refunds.length}笔` : ''}
                  </View>
                </View>
              ))
            : items?.map(card)
        }
        detail={desk && selected ? card(selected) : null}
      />
    </View>
  );
});
