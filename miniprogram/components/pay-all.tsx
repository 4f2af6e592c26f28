/**
 * 一键缴清: one WeChat payment for every unpaid bill of a household, oldest first (arrears first
 * by construction). Shown only when a household has more than one bill to pay; with one, that
 * bill's own 缴费 button suffices. Any page with the resident's bills can use it (PayAllCards).
 */
import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatFen, type BillSummary } from '@heat-butler/shared';
import { ApiError } from '../services/api';
import { nav, PAGES } from '../services/pages';
import { payAll } from '../services/pay';

export interface PayAllGroup {
  accountId: number;
  accountNo: string;
  /** the unpaid bills with something due, oldest first */
  bills: BillSummary[];
  totalFen: number;
}

/** Per household, its unpaid bills when there are two or more (what a pay-all order would cover). */
export function payAllGroups(bills: readonly BillSummary[]): PayAllGroup[] {
  const byAccount = new Map<number, BillSummary[]>();
  for (const b of bills) if (b.status === 'unpaid' && b.dueFen > 0) byAccount.set(b.accountId, [...(byAccount.get(b.accountId) ?? []), b]);
  return [...byAccount.entries()]
    .filter(([, list]) => list.length > 1)
    .map(([accountId, list]) => {
      const sorted = [...list].sort((a, b) => a.season.localeCompare(b.season));
      return { accountId, accountNo: sorted[0]!.accountNo, bills: sorted, totalFen: sorted.reduce((s, b) => s + b.dueFen, 0) };
    });
}

/** One household's 一键缴清: the bills it covers and the button. `onChange`: reload the bills (paid, or they changed). */
export function PayAllCard(props: { group: PayAllGroup; showAccount?: boolean; onChange: () => void }) {
  const { group } = props;
  const [busy, setBusy] = useState(false);

  const tap = () => {
    setBusy(true);
    // synchronously in the tap: payAll asks for the payment messages first
    payAll(
      group.accountId,
      group.bills.map((b) => b.id),
    )
      .then(({ outcome, order }) => {
        if (outcome === 'paid' && order) {
          Taro.showToast({ title: '缴费成功', icon: 'success' });
          void nav.to(PAGES.paymentDetail, { id: order.id });
        } else if (outcome === 'pending' && order) {
          Taro.showToast({ title: '正在确认支付结果，请稍后查看', icon: 'none' });
        }
        props.onChange();
      })
      .catch((e) => {
        // the message was shown; bills paid or issued meanwhile: show them as they are now
        if (!(e instanceof ApiError)) throw e;
        props.onChange();
      })
      .finally(() => setBusy(false));
  };

  return (
    <View className='card pay-all' data-pay-all={group.accountNo}>
      <View className='row'>
        <Text className='card-title'>一键缴清</Text>
        <Text className='muted'>{props.showAccount ? `户号 ${group.accountNo}` : `${group.bills.length} 笔账单`}</Text>
      </View>
      <View className='muted'>从最早的账单起，一次缴清以下账单：</View>
      {group.bills.map((b) => (
        <View className='row list-item' key={b.id} data-pay-all-bill={b.season}>
          <Text>
            {b.seasonLabel}
            {b.arrears ? '（往年欠费）' : ''}
          </Text>
          <Text>{formatFen(b.dueFen)}</Text>
        </View>
      ))}
      <View className='btn btn-primary' data-pay-all-button onClick={busy ? undefined : tap}>
        {busy ? '请稍候…' : `一键缴清 ${formatFen(group.totalFen)}`}
      </View>
    </View>
  );
}

/** Every household's 一键缴清 (those with two or more bills to pay). */
export function PayAllCards(props: { bills: readonly BillSummary[]; onChange: () => void }) {
  const groups = payAllGroups(props.bills);
  return (
    <>
      {groups.map((g) => (
        <PayAllCard
          key={g.accountId}
          group={g}
          showAccount={groups.length > 1 || new Set(props.bills.map((b) => b.accountId)).size > 1}
          onChange={props.onChange}
        />
      ))}
    </>
  );
}
