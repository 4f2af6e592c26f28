import { useState } from 'react';
import { Text, View } from '@tarojs/components';
import type { ValveOrderView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { serviceChangesApi } from '../../services/api/service-changes';
import { useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { choosePhoto } from '../../services/photo';
import { staffPage } from '../../components/staff-page';

/** 阀门工单: the substation crew closes / opens / seals valves and marks them done with a photo. */
export default staffPage('any-staff', function ValveOrders() {
  const [state, setState] = useState<'open' | 'done'>('open');
  const orders = useData(() => serviceChangesApi.valveOrders({ state }), [state], { onShow: true });
  const items = orders.data?.items;
  const load = orders.reload;

  const done = async (o: ValveOrderView, action?: 'seal') => {
    const photoUrl = await choosePhoto('valve_photo').catch(() => null);
    if (!photoUrl) return;
    try {
      await serviceChangesApi.valveOrderDone({ id: o.id }, { photoUrl, action: action ?? o.action });
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  return (
    <View className='page'>
      <Segmented
        options={[
          { value: 'open', label: '待施工' },
          { value: 'done', label: '已完成' },
        ]}
        value={state}
        onChange={setState}
      />
      <LoadError error={orders.error} onRetry={load} />
      {items && !items.length ? <Empty>没有工单</Empty> : null}
      {items?.map((o) => (
        <View className='card' key={o.id} data-valve-order-id={o.id}>
          <View className='row'>
            <Text className='card-title'>
              {o.actionLabel} · {o.accountNo}
            </Text>
            <Text className='tag'>{o.stateLabel}</Text>
          </View>
          <View className='muted'>{o.address}</View>
          <View className='muted'>
            {o.substation ?? ''} · {o.dueDate} 前完成
          </View>
          {o.state === 'open' ? (
            <View>
              <View className='btn btn-primary' onClick={() => done(o)}>
                拍照并完成{o.actionLabel}
              </View>
              {o.action === 'close' ? (
                <View className='btn btn-plain' onClick={() => done(o, 'seal')}>
                  关阀并施封
                </View>
              ) : null}
            </View>
          ) : null}
        </View>
      ))}
    </View>
  );
});
