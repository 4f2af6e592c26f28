import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatChinaTime, type WatchTaskView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { watchApi } from '../../services/api/complaints';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

type Tab = 'open' | 'done' | 'hazards';

/** Completing one task: a re-measurement needs its reading (℃), a visit may have one. */
function DoneForm(props: { task: WatchTaskView; onDone: () => void }) {
  const [reading, setReading] = useState('');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState('');
  const submit = async () => {
    setError('');
    try {
      await watchApi.done({ id: props.task.id }, { ...(reading ? { readingC: Number(reading) } : {}), ...(notes ? { notes } : {}) }, { quiet: true });
      Taro.showToast({ title: '已完成', icon: 'success' });
      props.onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e.message);
    }
  };
  return (
    <View>
      <Field
        label={props.task.kind === 'remeasure' ? '复测室温（℃）' : '室温读数（℃，选填）'}
        type='digit'
        value={reading}
        onInput={setReading}
        error={error}
      />
      <Field label='记录（选填）' value={notes} maxlength={300} onInput={setNotes} />
      <View className='btn btn-primary' data-watch-done onClick={() => void submit()}>
        完成
      </View>
    </View>
  );
}

/** 走访复测与隐患台账 (Heihe 004): first-day visits and re-measure tasks of the staff member's areas; buildings with many complaining households. */
export default staffPage(['agent', 'butler', 'dispatcher', 'worker', 'station', 'admin'], function WatchTasks() {
  const [tab, setTab] = useState<Tab>('open');
  const [open, setOpen] = useState<number | null>(null);
  const tasks = useData(() => (tab === 'hazards' ? Promise.resolve(null) : watchApi.tasks({ status: tab, pageSize: 100 })), [tab], { onShow: true });
  const hazards = useData(() => (tab === 'hazards' ? watchApi.hazards() : Promise.resolve(null)), [tab], { onShow: true });
  const items = tasks.data?.items;
  const ledger = hazards.data;
  return (
    <View className='page'>
      <Segmented<Tab>
        options={[
          { value: 'open', label: '待办任务' },
          { value: 'done', label: '已完成' },
          { value: 'hazards', label: '隐患台账' },
        ]}
        value={tab}
        onChange={setTab}
      />
      <LoadError error={tasks.error ?? hazards.error} onRetry={() => void (tab === 'hazards' ? hazards.reload() : tasks.reload())} />
      {tab !== 'hazards' && items && !items.length ? <Empty>没有任务</Empty> : null}
      {tab !== 'hazards'
        ? items?.map((t) => (
            <View className='card' key={t.id} data-watch-task-id={t.id}>
              <View className='row'>
                <Text className='card-title'>{t.kindLabel}</Text>
                <Text className={t.overdue ? 'tag tag-red' : 'tag'}>{t.status === 'done' ? '已完成' : t.overdue ? '已超时' : '待办'}</Text>
              </View>
              <View className='muted'>
                {t.accountNo} · {t.address}
              </View>
              <View>{t.reason}</View>
              <View className='muted'>
                {t.status === 'done' && t.doneAt ? `完成于 ${formatChinaTime(t.doneAt)}` : `请于 ${formatChinaTime(t.dueAt)} 前完成`}
                {t.readingC !== null ? ` · ${t.readingC.toFixed(1)}℃` : ''}
                {t.notes ? ` · ${t.notes}` : ''}
              </View>
              {t.status === 'open' ? (
                open === t.id ? (
                  <DoneForm
                    task={t}
                    onDone={() => {
                      setOpen(null);
                      void tasks.reload();
                    }}
                  />
                ) : (
                  <View className='btn btn-plain' onClick={() => setOpen(t.id)}>
                    填写结果
                  </View>
                )
              ) : null}
            </View>
          ))
        : null}
      {tab === 'hazards' && ledger ? (
        <View data-hazard-ledger>
          <View className='muted'>
            {ledger.season.label} 采暖季 · 投诉（报修或投诉）住户达到{ledger.threshold}户的楼栋
          </View>
          {!ledger.buildings.length ? <Empty>没有列入隐患台账的楼栋</Empty> : null}
          {ledger.buildings.map((b) => (
            <View className='card' key={b.buildingId}>
              <View className='row'>
                <Text className='card-title'>
                  {b.areaName} · {b.name}
                </Text>
                <Text className='tag tag-red'>{b.households.length}户</Text>
              </View>
              <View className='muted'>{b.address}</View>
              {b.households.map((h) => (
                <View className='list-item row' key={h.accountId}>
                  <Text>
                    {h.accountNo} {h.address}
                  </Text>
                  <Text className='muted'>
                    报修{h.repairTickets} · 投诉{h.complaints}
                  </Text>
                </View>
              ))}
            </View>
          ))}
        </View>
      ) : null}
    </View>
  );
});
