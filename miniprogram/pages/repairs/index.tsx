import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import type { RepairView } from '@heat-butler/shared';
import { api, getSessionKind, getToken } from '../../services/api';
import { Empty } from '../../components/ui';

/** 我的报修: the resident's tickets, newest first, with the contact promise while nobody has called. */
export default function MyRepairs() {
  const [items, setItems] = useState<RepairView[] | null>(null);
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  useDidShow(() => {
    if (loggedIn) api.get<{ items: RepairView[] }>('/api/v1/repairs').then((r) => setItems(r.items)).catch(() => undefined);
  });
  if (!loggedIn) return <View className='page'><Empty>登录后查看报修记录</Empty></View>;
  return (
    <View className='page'>
      <View className='btn btn-primary' onClick={() => Taro.navigateTo({ url: '/pages/repairs/new' })}>我要报修</View>
      {items && !items.length ? <Empty>还没有报修记录</Empty> : null}
      {items?.map((t) => (
        <View className='card' key={t.id} data-repair-id={t.id} onClick={() => Taro.navigateTo({ url: `/pages/repairs/detail?id=${t.id}` })}>
          <View className='row'>
            <Text className='card-title'>{t.emergency ? '【紧急】' : ''}{t.categoryLabel}</Text>
            <Text className={t.status === 'closed' ? 'tag tag-green' : 'tag'}>{t.statusLabel}</Text>
          </View>
          <View className='muted'>{t.address}</View>
          <View className='muted'>联系电话 {t.contactPhoneMasked}</View>
          {t.promise ? <View className='repair-promise'>{t.promise}</View> : null}
        </View>
      ))}
    </View>
  );
}
