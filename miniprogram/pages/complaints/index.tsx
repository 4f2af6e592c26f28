import { Text, View } from '@tarojs/components';
import { getSessionKind, getToken } from '../../services/api';
import { complaintsApi } from '../../services/api/complaints';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { ComplaintDue, ComplaintStatusTag } from '../../components/complaint';

/** 我的投诉: the complaints about the resident's households (also those made through 12345/12319), with status and deadline. */
export default function MyComplaints() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const complaints = useData(() => complaintsApi.list(), [], { onShow: true, enabled: isResident });
  const items = complaints.data?.items;
  if (!loggedIn)
    return (
      <View className='page'>
        <Empty>登录后查看投诉记录</Empty>
      </View>
    );
  return (
    <View className='page'>
      <View className='btn btn-primary' data-entry='complaint-new' onClick={() => nav.to(PAGES.complaintNew)}>
        我要投诉
      </View>
      <LoadError error={complaints.error} onRetry={complaints.reload} />
      {items && !items.length ? <Empty>还没有投诉记录</Empty> : null}
      {items?.map((c) => (
        <View className='card' key={c.id} data-complaint-id={c.id} onClick={() => nav.to(PAGES.complaintDetail, { id: c.id })}>
          <View className='row'>
            <Text className='card-title'>{c.sourceLabel}</Text>
            <ComplaintStatusTag c={c} />
          </View>
          <View className='muted'>{c.address}</View>
          <View>{c.content}</View>
          <ComplaintDue c={c} />
        </View>
      ))}
    </View>
  );
}
