import { useState } from 'react';
import { Text, View } from '@tarojs/components';
import { chinaDate, type RepairSlaRow } from '@heat-butler/shared';
import { repairsApi } from '../../services/api/repairs';
import { downloadXlsx } from '../../services/download';
import { useData } from '../../services/use-data';
import { LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

type Range = '7' | '30' | '90';
const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
const mins = (x: number | null) => (x === null ? '—' : x < 1 ? '不足1分钟' : x >= 60 ? `${(x / 60).toFixed(1)}小时` : `${Math.round(x)}分钟`);

/** A plain bar: a View whose width is the share. */
function Bar(props: { label: string; value: number | null; text: string; sub?: string }) {
  const w = Math.max(0, Math.min(1, props.value ?? 0));
  return (
    <View className='report-bar-row'>
      <View className='row'>
        <Text>{props.label}</Text>
        <Text>{props.text}</Text>
      </View>
      <View className='report-bar-track'>
        <View className={`report-bar ${w < 0.8 ? 'report-bar-low' : ''}`} style={{ width: `${Math.round(w * 100)}%` }} />
      </View>
      {props.sub ? <View className='muted'>{props.sub}</View> : null}
    </View>
  );
}

function SlaCard(props: { title: string; rows: RepairSlaRow[]; attr: string }) {
  return (
    <View className='card' {...{ [`data-${props.attr}`]: true }}>
      <View className='card-title'>{props.title}</View>
      {props.rows.length ? null : <View className='muted'>无工单</View>}
      {props.rows.map((r) => (
        <Bar
          key={r.key}
          label={r.label}
          value={r.complianceRate}
          text={`${pct(r.complianceRate)}（${r.compliant}/${r.evaluated}）`}
          sub={`${r.tickets}单 · 联系 ${pct(r.contactRate)} · 上门 ${pct(r.onSiteRate)} · 完工 ${pct(r.doneRate)} · 满意 ${pct(r.satisfiedRate)}`}
        />
      ))}
    </View>
  );
}

/** 报修服务统计: SLA compliance per area and type, median times, satisfaction; Excel export. */
export default staffPage(['agent', 'dispatcher', 'station', 'admin'], function RepairReport() {
  const [range, setRange] = useState<Range>('30');
  const query = (x: Range) => ({ from: chinaDate(Date.now() - (Number(x) - 1) * 86_400_000), to: chinaDate(Date.now()) });
  const report = useData(() => repairsApi.report(query(range)), [range], { onShow: true });
  const r = report.data;

  const exportXlsx = () => {
    const q = query(range);
    return downloadXlsx(repairsApi.reportExport(q), `报修统计-${q.from}至${q.to}.xlsx`, '导出失败，请稍后再试');
  };

  const maxStars = Math.max(1, ...(r?.ratings.map((x) => x.count) ?? [1]));
  return (
    <View className='page'>
      <Segmented<Range>
        options={[
          { value: '7', label: '近7天' },
          { value: '30', label: '近30天' },
          { value: '90', label: '近90天' },
        ]}
        value={range}
        onChange={setRange}
      />
      <LoadError error={report.error} onRetry={report.reload} />
      {r ? (
        <View>
          <View className='card' data-report-total>
            <View className='row'>
              <Text className='card-title'>总体</Text>
              <Text className='muted'>
                {r.from} 至 {r.to}
              </Text>
            </View>
            <Bar
              label='SLA达标率'
              value={r.total.complianceRate}
              text={`${pct(r.total.complianceRate)}（${r.total.compliant}/${r.total.evaluated}）`}
              sub={`共 ${r.total.tickets} 单，未到期的不计入`}
            />
            <View className='list-item row'>
              <Text>联系时长中位数</Text>
              <Text>{mins(r.total.medianContactMinutes)}</Text>
            </View>
            <View className='list-item row'>
              <Text>上门时长中位数</Text>
              <Text>{mins(r.total.medianOnSiteMinutes)}</Text>
            </View>
            <View className='list-item row'>
              <Text>完工时长中位数</Text>
              <Text>{mins(r.total.medianDoneMinutes)}</Text>
            </View>
            <View className='list-item row'>
              <Text>满意度</Text>
              <Text>
                {r.total.avgRating === null ? '—' : `${r.total.avgRating.toFixed(1)}星 · 满意 ${pct(r.total.satisfiedRate)}（${r.total.rated}条评价）`}
              </Text>
            </View>
          </View>
          <SlaCard title='各片区SLA达标率' rows={r.byArea} attr='report-areas' />
          <SlaCard title='各类型SLA达标率' rows={[...r.byCategory, ...r.byUrgency]} attr='report-types' />
          <View className='card'>
            <View className='card-title'>评价分布</View>
            {r.ratings
              .slice()
              .reverse()
              .map((s) => (
                <Bar key={s.stars} label={'★'.repeat(s.stars)} value={s.count / maxStars} text={`${s.count}`} />
              ))}
          </View>
        </View>
      ) : null}
      <View className='btn btn-plain' data-export onClick={exportXlsx}>
        导出 Excel
      </View>
    </View>
  );
});
