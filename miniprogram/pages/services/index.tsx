import { Text, View } from '@tarojs/components';
import { getSessionKind, getToken } from '../../services/api';
import { serviceChangesApi } from '../../services/api/service-changes';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';

/** 报停 / 复供: the entry and the resident's applications with their status. */
function ServiceChanges() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const applications = useData(() => serviceChangesApi.list({ quiet: true }), [], { onShow: true, enabled: isResident });
  const items = applications.data?.items ?? [];
  return (
    <View className='card' data-service-changes>
      <View className='row'>
        <Text className='card-title'>报停 / 复供</Text>
        <Text className='muted'>每年9月20日截止</Text>
      </View>
      <View className='muted'>下一采暖季不用暖或恢复供暖，在线申请，进度随时查看。</View>
      <LoadError error={applications.error} onRetry={applications.reload} />
      {items.slice(0, 5).map((a) => (
        <View className='list-item row' key={a.id} data-application-id={a.id} onClick={() => nav.to(PAGES.serviceDetail, { id: a.id })}>
          <View>
            <View>
              {a.seasonLabel}
              {a.kindLabel}
            </View>
            <View className='muted'>户号 {a.accountNo}</View>
          </View>
          <Text className={a.state === 'done' ? 'tag tag-green' : a.state === 'rejected' ? 'tag tag-red' : 'tag'}>{a.stateLabel}</Text>
        </View>
      ))}
      <View className='btn btn-primary' onClick={() => nav.to(loggedIn ? PAGES.serviceChange : PAGES.login)}>
        办理报停 / 复供
      </View>
    </View>
  );
}

/** 报修 / 我的报修 / 预约测温 entries. */
function RepairEntries() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const go = (page: typeof PAGES.repairNew | typeof PAGES.repairs | typeof PAGES.measurements | typeof PAGES.complaints) =>
    nav.to(loggedIn ? page : PAGES.login);
  return (
    <View className='card' data-repair-entries>
      <View className='row'>
        <Text className='card-title'>报修与测温</Text>
        <Text className='muted'>漏水等紧急报修全天候处理</Text>
      </View>
      <View className='muted'>室温不达标、跑冒滴漏、暖气不热、阀门问题，在线报修，进度随时查看。</View>
      <View className='btn btn-primary' data-entry='repair-new' onClick={() => go(PAGES.repairNew)}>
        报修
      </View>
      <View className='list-item row' data-entry='repairs' onClick={() => go(PAGES.repairs)}>
        <Text>我的报修</Text>
        <Text className='muted'>›</Text>
      </View>
      <View className='list-item row' data-entry='measurements' onClick={() => go(PAGES.measurements)}>
        <Text>预约测温</Text>
        <Text className='muted'>06:00–08:00、16:00–20:00 ›</Text>
      </View>
      <View className='list-item row' data-entry='complaints' onClick={() => go(PAGES.complaints)}>
        <Text>我的投诉</Text>
        <Text className='muted'>24小时内办结 ›</Text>
      </View>
    </View>
  );
}

export default function Services() {
  return (
    <View className='page'>
      <ServiceChanges />
      <RepairEntries />
      <View className='card'>
        <View className='card-title'>缴费与发票</View>
        <View className='muted'>缴费成功后可在缴费凭证页申请电子发票（个人、单位、增值税专用发票），开具后可下载或发送到邮箱。</View>
        <View className='list-item row' onClick={() => nav.to(PAGES.payments)}>
          <Text>缴费记录</Text>
          <Text className='muted'>›</Text>
        </View>
        <View className='list-item row' onClick={() => nav.to(PAGES.invoices)}>
          <Text>我的发票</Text>
          <Text className='muted'>›</Text>
        </View>
      </View>
    </View>
  );
}
