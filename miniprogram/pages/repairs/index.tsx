import { View } from '@tarojs/components';
import { getSessionKind, getToken } from '../../services/api';
import { repairsApi } from '../../services/api/repairs';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { RepairTitle } from '../../components/repair-title';

/** 我的报修: the resident's tickets, newest first, with the contact promise while nobody has called. */
export default function MyRepairs() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const repairs = useData(() => repairsApi.list(), [], { onShow: true, enabled: isResident });
  const items = repairs.data?.items;
  if (!loggedIn)
    return (
      <View className='page'>
        <Empty>登录后查看报修记录</Empty>
      </View>
    );
  return (
    <View className='page'>
      <View className='btn btn-primary' onClick={() => nav.to(PAGES.repairNew)}>
        我要报修
      </View>
      <LoadError error={repairs.error} onRetry={repairs.reload} />
      {items && !items.length ? <Empty>还没有报修记录</Empty> : null}
      {items?.map((t) => (
        <View className='card' key={t.id} data-repair-id={t.id} onClick={() => nav.to(PAGES.repairDetail, { id: t.id })}>
          <RepairTitle t={t} />
          <View className='muted'>{t.address}</View>
          <View className='muted'>联系电话 {t.contactPhoneMasked}</View>
          {t.promise ? <View className='repair-promise'>{t.promise}</View> : null}
          {t.overdue ? (
            <View className='repair-late' data-repair-overdue>
              已超时，可在详情中催单或拨打服务热线
            </View>
          ) : null}
        </View>
      ))}
    </View>
  );
}
