import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { documentLabel, formatChinaTime, formatFen } from '@heat-butler/shared';
import { serviceChangesApi } from '../../services/api/service-changes';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { payBill } from '../../services/pay';
import { askSubscribe } from '../../services/subscribe';
import { SubscribeTag } from '../../components/subscribe-tag';
import { choosePhoto } from '../../services/photo';

/** 报停/复供进度: status, problems to fix, what to pay, the valve work order, the timeline, cancel. */
export default function ServiceChangeDetail() {
  const { params } = useRouter();
  const [docs, setDocs] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const application = useData(
    async () => {
      const a = await serviceChangesApi.get({ id: params.id! });
      setDocs(Object.fromEntries(a.documents.flatMap((d) => (d.id ? [[d.kind, d.id]] : []))));
      return a;
    },
    [],
    { onShow: true },
  );
  const app = application.data;
  const load = application.reload;

  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
      await load();
    } catch {
      /* the API client showed the message */
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    const ok = await Taro.showModal({ title: '撤销申请', content: '确定撤销这份申请吗？' });
    if (ok.confirm) await run(() => serviceChangesApi.cancel({ id: params.id! }));
  };
  const resubmit = () =>
    run(() => {
      void askSubscribe('serviceChange'); // in the tap, before any await
      return serviceChangesApi.resubmit({ id: params.id! }, { documents: Object.entries(docs).map(([kind, url]) => ({ kind, url })) });
    });
  const replace = async (kind: string) => {
    const id = await choosePhoto('id_document').catch(() => null);
    if (id) setDocs((d) => ({ ...d, [kind]: id }));
  };
  const pay = () => app?.billId && run(() => payBill(app.billId!));

  if (!app)
    return (
      <View className='page'>
        <LoadError error={application.error} onRetry={load} />
      </View>
    );
  const problemKinds = [...new Set([...app.documents.map((d) => d.kind), ...app.problems.flatMap((p) => (p.document ? [p.document] : []))])];
  return (
    <View className='page'>
      <View className='card'>
        <View className='row'>
          <Text className='card-title'>
            {app.seasonLabel}
            {app.kindLabel}
          </Text>
          <Text className={app.state === 'done' ? 'tag tag-green' : app.state === 'rejected' ? 'tag tag-red' : 'tag'} data-state={app.state}>
            {app.stateLabel}
          </Text>
        </View>
        <View className='muted'>户号 {app.accountNo}</View>
        <View className='muted'>{app.address}</View>
        {!['done', 'rejected', 'cancelled'].includes(app.state) ? (
          <SubscribeTag ask='serviceChange' template='serviceChangeProgress' label='办理进度提醒' />
        ) : null}
        {app.late ? <View className='muted'>逾期受理：{app.lateReason}</View> : null}
        {app.refundDueFen > 0 ? <View className='notice'>您已缴热费超出基础热费 {formatFen(app.refundDueFen)}，将由财务退回</View> : null}
      </View>

      {app.state === 'rejected' ? (
        <View className='card'>
          <View className='card-title'>请补正以下问题</View>
          {app.problems.map((p, i) => (
            <View className='alert' key={i}>
              {i + 1}. {p.document ? `${documentLabel(p.document)}：` : ''}
              {p.message}
            </View>
          ))}
          {problemKinds.map((k) => (
            <View className='list-item row' key={k}>
              <Text>{documentLabel(k)}</Text>
              <Text className='link' onClick={() => replace(k)}>
                {docs[k] && docs[k] !== app.documents.find((d) => d.kind === k)?.id ? '已更换' : '重新上传'}
              </Text>
            </View>
          ))}
          <View className='btn btn-primary' onClick={() => !busy && resubmit()}>
            补正后重新提交
          </View>
        </View>
      ) : null}

      {app.state === 'awaiting_payment' ? (
        <View className='card'>
          <View className='card-title'>缴费后开阀</View>
          <View className='pay-amount'>{formatFen(app.dueFen)}</View>
          <View className='muted'>复供须缴清全额热费（已缴基础热费的，补缴差额）。缴费成功后自动派发开阀工单。</View>
          <View className='btn btn-wechat' onClick={() => !busy && pay()}>
            微信支付
          </View>
        </View>
      ) : null}

      {app.workOrder ? (
        <View className='card'>
          <View className='card-title'>阀门工单</View>
          <View className='row'>
            <Text>{app.workOrder.actionLabel}</Text>
            <Text className='tag'>{app.workOrder.stateLabel}</Text>
          </View>
          <View className='muted'>
            {app.workOrder.substation ?? ''} · {app.workOrder.dueDate} 前完成
          </View>
          {app.workOrder.doneAt ? <View className='muted'>完成时间 {formatChinaTime(app.workOrder.doneAt)}</View> : null}
          {app.workOrder.note ? <View className='muted'>{app.workOrder.note}</View> : null}
        </View>
      ) : null}

      <View className='card'>
        <View className='card-title'>办理进度</View>
        {app.timeline.map((s, i) => (
          <View className='list-item timeline-item' key={i}>
            <View className='row'>
              <Text className='strong'>{s.label}</Text>
              <Text className='muted'>{formatChinaTime(s.at)}</Text>
            </View>
            {s.reason ? <View className='muted'>{s.reason}</View> : null}
          </View>
        ))}
      </View>

      {app.cancellable ? (
        <View className='btn btn-danger' onClick={() => !busy && cancel()}>
          撤销申请
        </View>
      ) : null}
    </View>
  );
}
