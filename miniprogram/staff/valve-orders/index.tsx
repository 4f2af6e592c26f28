import { useState } from 'react';
import { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import type { ValveOrderView } from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { Empty, Segmented } from '../../components/ui';
import { choosePhoto } from '../../services/photo';

/** 阀门工单: the substation crew closes / opens / seals valves and marks them done with a photo. */
export default function ValveOrders() {
  const [state, setState] = useState<'open' | 'done'>('open');
  const [items, setItems] = useState<ValveOrderView[] | null>(null);
  const load = (s = state) => api.get<{ items: ValveOrderView[] }>('/api/v1/staff/valve-orders', { query: { state: s } }).then((r) => setItems(r.items)).catch(() => undefined);
  useDidShow(() => void load());

  const done = async (o: ValveOrderView, action?: 'seal') => {
    const photoUrl = await choosePhoto('valve_photo').catch(() => null);
    if (!photoUrl) return;
    try {
      await api.post(`/api/v1/staff/valve-orders/${o.id}/done`, { photoUrl, action: action ?? o.action });
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  return (
    <View className='page'>
      <Segmented options={[{ value: 'open', label: '待施工' }, { value: 'done', label: '已完成' }]} value={state} onChange={(s) => { setState(s); void load(s); }} />
      {items && !items.length ? <Empty>没有工单</Empty> : null}
      {items?.map((o) => (
        <View className='card' key={o.id} data-valve-order-id={o.id}>
          <View className='row'>
            <Text className='card-title'>{o.actionLabel} · {o.accountNo}</Text>
            <Text className='tag'>{o.stateLabel}</Text>
          </View>
          <View className='muted'>{o.address}</View>
          <View className='muted'>{o.substation ?? ''} · {o.dueDate} 前完成</View>
          {o.state === 'open' ? (
            <View>
              <View className='btn btn-primary' onClick={() => done(o)}>拍照并完成{o.actionLabel}</View>
              {o.action === 'close' ? <View className='btn btn-plain' onClick={() => done(o, 'seal')}>关阀并施封</View> : null}
            </View>
          ) : null}
        </View>
      ))}
    </View>
  );
}
