import { useRef, useState } from 'react';
import { Text, View } from '@tarojs/components';
import { REPAIR_CATEGORY_LABEL, type RepairCategory } from '@heat-butler/shared';
import { repairsApi } from '../../services/api/repairs';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

/** 重点关注名单: last season's cold households and buildings with many complaints, for visits from the first heating day. */
export default staffPage(['agent', 'butler', 'dispatcher', 'worker', 'station', 'admin'], function RepairWatch() {
  const [season, setSeason] = useState<'last' | 'current'>('last');
  const lastYear = useRef<number | null>(null);
  const watch = useData(
    async () => {
      const v = await repairsApi.watchList(season === 'current' && lastYear.current ? { season: String(lastYear.current + 1) } : {});
      if (season === 'last') lastYear.current = Number(v.season.label.slice(0, 4));
      return v;
    },
    [season],
    { onShow: true },
  );
  const view = watch.data;
  return (
    <View className='page'>
      <Segmented<'last' | 'current'>
        options={[
          { value: 'last', label: '上一采暖季' },
          { value: 'current', label: '本采暖季' },
        ]}
        value={season}
        onChange={setSeason}
      />
      <LoadError error={watch.error} onRetry={watch.reload} />
      {view ? (
        <View className='muted'>
          {view.season.label} 采暖季 · 低于{view.thresholds.minTemperatureC}℃、室温报修≥{view.thresholds.repeatedLowTemp}次的住户，投诉≥
          {view.thresholds.buildingComplaints}件的楼栋
        </View>
      ) : null}
      <View className='card' data-watch-buildings>
        <View className='card-title'>报修集中的楼栋（{view?.buildings.length ?? 0}）</View>
        <View className='muted' data-hazard-link onClick={() => nav.to(PAGES.staffWatchTasks)}>
          隐患台账（报修与投诉合计，列出住户）、首日走访与复测任务 ›
        </View>
        {view && !view.buildings.length ? <View className='muted'>没有投诉达到{view.thresholds.buildingComplaints}件的楼栋</View> : null}
        {view?.buildings.map((b) => (
          <View className='list-item' key={b.buildingId}>
            <View className='row'>
              <Text>
                {b.areaName} · {b.name}
              </Text>
              <Text className='tag tag-red'>
                {b.complaints}户 · {b.tickets}件
              </Text>
            </View>
            <View className='muted'>{b.address}</View>
            <View className='muted'>
              {Object.entries(b.byCategory)
                .map(([c, n]) => `${REPAIR_CATEGORY_LABEL[c as RepairCategory]} ${n}`)
                .join('、')}
            </View>
          </View>
        ))}
      </View>
      <View className='card' data-watch-households>
        <View className='card-title'>重点住户（{view?.households.length ?? 0}）</View>
        {view && !view.households.length ? <Empty>没有需要重点关注的住户</Empty> : null}
        {view?.households.map((h) => (
          <View className='list-item' key={h.accountId}>
            <View className='row'>
              <Text>{h.accountNo}</Text>
              {h.lowestReadingC !== null ? <Text className='tag tag-red'>{h.lowestReadingC.toFixed(1)}℃</Text> : null}
            </View>
            <View className='muted'>{h.address}</View>
            <View>{h.reasons.join('；')}</View>
          </View>
        ))}
      </View>
    </View>
  );
});
