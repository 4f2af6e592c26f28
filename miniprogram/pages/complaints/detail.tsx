import { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { COMPLAINT_OPEN_STATES, formatChinaTime } from '@heat-butler/shared';
import { complaintsApi } from '../../services/api/complaints';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { ComplaintDue, ComplaintStatusTag } from '../../components/complaint';
import { Timeline } from '../../components/timeline';
import { SubscribeTag } from '../../components/subscribe-tag';

/** 投诉详情: status, the promised deadline (China time), the answer, the timeline. */
export default function ComplaintDetail() {
  const { params } = useRouter();
  const complaint = useData(() => complaintsApi.get({ id: params.id! }), [], { onShow: true });
  const c = complaint.data;
  return (
    <View className='page'>
      <LoadError error={complaint.error} onRetry={complaint.reload} />
      {c ? (
        <View className='card' data-complaint-detail>
          <View className='row'>
            <Text className='card-title'>投诉 {c.no}</Text>
            <ComplaintStatusTag c={c} />
          </View>
          <View className='muted'>
            {c.sourceLabel}
            {c.externalNo ? ` · 工单号 ${c.externalNo}` : ''} · {formatChinaTime(c.createdAt)}
          </View>
          {COMPLAINT_OPEN_STATES.includes(c.status) ? <SubscribeTag ask='complaint' template='complaintProgress' label='投诉答复提醒' /> : null}
          <View className='muted'>{c.address}</View>
          <View>{c.content}</View>
          <ComplaintDue c={c} />
          {c.resolution ? <View data-complaint-resolution>处理结果：{c.resolution}</View> : null}
          {c.status === 'resolved' && c.callbackDueAt ? <View className='muted'>客服将在 {formatChinaTime(c.callbackDueAt)} 前回访</View> : null}
        </View>
      ) : null}
      {c?.timeline?.length ? <Timeline steps={c.timeline} /> : null}
    </View>
  );
}
