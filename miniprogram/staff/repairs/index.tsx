import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import type { StaffRepairView } from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { Empty, Segmented } from '../../components/ui';
import { pickAndUpload } from '../../pages/repairs/photo';

type Tab = 'mine' | 'pool' | 'overdue';

function timeLeft(t: StaffRepairView): string {
  if (t.minutesLeft === null) return '';
  const m = Math.abs(t.minutesLeft);
  const text = m >= 60 ? `${Math.floor(m / 60)}小时${m % 60}分` : `${m}分钟`;
  return t.minutesLeft < 0 ? `已超时 ${text}` : `剩余 ${text}`;
}

/** 维修工单: my tickets with time left, the area's unassigned pool (抢单), and overdue ones; field actions. */
export default function StaffRepairs() {
  const [tab, setTab] = useState<Tab>('mine');
  const [items, setItems] = useState<StaffRepairView[] | null>(null);
  const load = (t: Tab = tab) =>
    api
      .get<{ items: StaffRepairView[] }>('/api/v1/staff/repairs', { query: t === 'mine' ? { mine: '1' } : t === 'pool' ? { pool: '1' } : { overdue: '1' } })
      .then((r) => setItems(r.items))
      .catch(() => undefined);
  useDidShow(() => void load());

  const act = async (t: StaffRepairView, path: string, body?: unknown) => {
    try {
      await api.post(`/api/v1/staff/repairs/${t.id}/${path}`, body);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      await load();
    }
  };
  const resolve = async (t: StaffRepairView) => {
    const r = await Taro.showModal({ title: '完工说明', editable: true, placeholderText: '处理情况、更换材料' } as any);
    if (!r.confirm) return;
    const photos = await pickAndUpload(3).catch(() => []);
    await act(t, 'resolve', { notes: (r as any).content || '已处理完毕', photos: photos.map((p) => p.id) });
  };

  return (
    <View className='page'>
      <Segmented<Tab> options={[{ value: 'mine', label: '我的工单' }, { value: 'pool', label: '待抢单' }, { value: 'overdue', label: '已超时' }]} value={tab} onChange={(v) => { setTab(v); void load(v); }} />
      {items && !items.length ? <Empty>没有工单</Empty> : null}
      {items?.map((t) => (
        <View className='card' key={t.id} data-staff-repair-id={t.id}>
          <View className='row'>
            <Text className='card-title'>{t.emergency ? '【紧急】' : ''}{t.categoryLabel}</Text>
            <Text className={t.overdue ? 'tag tag-red' : 'tag'}>{t.statusLabel}</Text>
          </View>
          <View className='muted'>{t.no} · {t.address}</View>
          <View className='muted'>电话 {t.contactPhone} · {timeLeft(t)}{t.escalationLevel ? ` · 已升级${t.escalationLevel === 1 ? '主管' : '部门负责人'}` : ''}</View>
          <View className='repair-desc'>{t.description}</View>
          {tab === 'pool' ? <View className='btn btn-primary' data-grab onClick={() => act(t, 'grab')}>抢单</View> : null}
          {tab !== 'pool' && t.status === 'assigned' ? <View className='btn btn-plain' onClick={() => act(t, 'contact')}>已联系住户</View> : null}
          {tab !== 'pool' && (t.status === 'assigned' || t.status === 'contacted') ? <View className='btn btn-primary' data-arrive onClick={() => act(t, 'arrive')}>到达现场</View> : null}
          {t.status === 'on_site' ? (
            <View>
              <View className='btn btn-primary' data-company-side onClick={() => act(t, 'side', { side: 'company' })}>公司产权，免费维修</View>
              <View className='btn btn-plain' onClick={() => act(t, 'side', { side: 'resident', items: [{ code: 'visit', qty: 1 }] })}>用户自有设施（收费，待住户确认）</View>
            </View>
          ) : null}
          {t.status === 'in_progress' ? <View className='btn btn-primary' data-resolve onClick={() => resolve(t)}>完工</View> : null}
        </View>
      ))}
    </View>
  );
}
