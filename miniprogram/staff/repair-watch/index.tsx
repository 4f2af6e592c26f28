import { useState } from 'react';
import { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { REPAIR_CATEGORY_LABEL, type RepairCategory, type WatchListView } from '@heat-butler/shared';
import { api } from '../../services/api';
import { Empty, Segmented } from '../../components/ui';

/** 重点关注名单: last season's cold households and buildings with many complaints, for visits from the first heating day. */
export default function RepairWatch() {
  const [view, setView] = useState<WatchListView | null>(null);
  const [season, setSeason] = useState<'last' | 'current'>('last');
  const [lastYear, setLastYear] = useState<number | null>(null);
  const load = (s = season) => {
    const query: Record<string, string> = {};
    if (s === 'current' && lastYear) query.season = String(lastYear + 1);
    return api
      .get<WatchListView>('/api/v1/staff/repairs/watch-list', { query })
      .then((v) => {
        setView(v);
        if (s === 'last') setLastYear(Number(v.season.label.slice(0, 4)));
      })
      .catch(() => undefined);
  };
  useDidShow(() => void load());
  return (
    <View className='page'>
      <Segmented<'last' | 'current'>
        options={[{ value: 'last', label: '上一采暖季' }, { value: 'current', label: '本采暖季' }]}
        value={season}
        onChange={(v) => { setSeason(v); void load(v); }}
      />
      {view ? <View className='muted'>{view.season.label} 采暖季 · 低于{view.thresholds.minTemperatureC}℃、室温报修≥{view.thresholds.repeatedLowTemp}次的住户，投诉≥{view.thresholds.buildingComplaints}件的楼栋</View> : null}
      <View className='card' data-watch-buildings>
        <View className='card-title'>隐患楼栋（{view?.buildings.length ?? 0}）</View>
        {view && !view.buildings.length ? <View className='muted'>没有投诉达到{view.thresholds.buildingComplaints}件的楼栋</View> : null}
        {view?.buildings.map((b) => (
          <View className='list-item' key={b.buildingId}>
            <View className='row'><Text>{b.areaName} · {b.name}</Text><Text className='tag tag-red'>{b.complaints}户 · {b.tickets}件</Text></View>
            <View className='muted'>{b.address}</View>
            <View className='muted'>{Object.entries(b.byCategory).map(([c, n]) => `${REPAIR_CATEGORY_LABEL[c as RepairCategory]} ${n}`).join('、')}</View>
          </View>
        ))}
      </View>
      <View className='card' data-watch-households>
        <View className='card-title'>重点住户（{view?.households.length ?? 0}）</View>
        {view && !view.households.length ? <Empty>没有需要重点关注的住户</Empty> : null}
        {view?.households.map((h) => (
          <View className='list-item' key={h.accountId}>
            <View className='row'><Text>{h.accountNo}</Text>{h.lowestReadingC !== null ? <Text className='tag tag-red'>{h.lowestReadingC.toFixed(1)}℃</Text> : null}</View>
            <View className='muted'>{h.address}</View>
            <View>{h.reasons.join('；')}</View>
          </View>
        ))}
      </View>
    </View>
  );
}
