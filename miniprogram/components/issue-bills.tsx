import { useEffect, useRef, useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatFen, type SeasonBillsStatus } from '@heat-butler/shared';
import { ApiError } from '../services/api';
import { billingApi } from '../services/api/billing';

/** bills per request: the progress bar moves between steps */
const STEP = 100;

/**
 * 出账 for one season: the preview (who gets which bill, who is skipped and why), then the
 * issuing in steps with progress (已出账 n / total). Issuing again issues nothing twice (the
 * server skips households that have the season's bill), so a stopped run just continues.
 */
export function IssueBills(props: { season: string; canIssue: boolean; onDone?: (s: SeasonBillsStatus) => void }) {
  const [status, setStatus] = useState<SeasonBillsStatus | null>(null);
  const [issuedNow, setIssuedNow] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  const load = async () => {
    setError('');
    try {
      setStatus(await billingApi.seasonBills({ code: props.season }, { quiet: true }));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e.message);
    }
  };
  useEffect(() => void load(), [props.season]);

  const issue = async () => {
    if (busy) return;
    setBusy(true);
    setError('');
    let total = 0;
    try {
      for (;;) {
        const s = await billingApi.issueBills({ code: props.season }, { batch: STEP }, { quiet: true });
        total += s.issued;
        if (!alive.current) return;
        setStatus(s);
        setIssuedNow(total);
        if (!s.remaining || !s.issued) {
          Taro.showToast({ title: total ? `已出账${total}户` : '没有需要出账的住户', icon: total ? 'success' : 'none' });
          props.onDone?.(s);
          return;
        }
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(`${e.message}（已出账的账单不受影响，可再次点击继续）`);
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  if (!status) return error ? <View className='alert'>{error}</View> : <View className='muted'>正在统计…</View>;
  const pct = status.total ? Math.round((status.billed / status.total) * 100) : 100;
  return (
    <View className='issue-bills' data-issue-bills={props.season}>
      <View className='admin-progress'>
        <View className='admin-progress-bar' style={{ width: `${pct}%` }} />
      </View>
      <View data-issue-progress>
        已出账 {status.billed} / {status.total} 户{status.remaining ? `，待出账 ${status.remaining} 户` : '，全部出账'}
        {issuedNow !== null ? `（本次出账 ${issuedNow} 户）` : ''}
      </View>
      {status.remaining ? (
        <View className='muted'>
          待出账：全额热费 {status.pending.full} 户，报停基础热费 {status.pending.base} 户，合计 {formatFen(status.pending.amountFen)}
        </View>
      ) : null}
      {status.skipped.map((s) => (
        <View className='muted' key={s.reason} data-issue-skipped>
          不出账：{s.count} 户（{s.reason}）
        </View>
      ))}
      {error ? <View className='alert'>{error}</View> : null}
      {props.canIssue && status.remaining ? (
        <View className={`btn btn-primary ${busy ? 'btn-disabled' : ''}`} data-issue-button onClick={() => void issue()}>
          {busy ? `正在出账… ${status.billed} / ${status.total}` : `出账（${status.remaining} 户）`}
        </View>
      ) : null}
      {!status.remaining ? <Text className='tag tag-green'>已全部出账，重复出账不会重复生成账单</Text> : null}
    </View>
  );
}
