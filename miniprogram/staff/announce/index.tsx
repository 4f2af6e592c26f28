import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Picker, Switch, Text, Textarea, View } from '@tarojs/components';
import {
  ANNOUNCEMENT_NEEDS_RESTORE,
  ANNOUNCEMENT_TYPES,
  ANNOUNCEMENT_TYPE_LABEL,
  chinaDate,
  chinaHm,
  type AnnouncementType,
  type AnnouncementView,
} from '@heat-butler/shared';
import { useSubmit } from '../../services/use-submit';
import { groupsApi } from '../../services/api/groups';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

type Scope = 'building' | 'area' | 'all';

/** China date and time (the shared helpers), for the pickers and the list. */
const chinaParts = (d: Date) => ({ date: chinaDate(d), time: chinaHm(d) });
const chinaText = (iso: string) => `${chinaDate(iso).slice(5)} ${chinaHm(iso)}`;

/** 发布公告: type, target (one building, an area, or all), text, restoration time for outages; recent announcements with delivery. */
export default staffPage(['agent', 'butler', 'dispatcher', 'station', 'admin'], function Announce() {
  const [type, setType] = useState<AnnouncementType>('outage');
  const [scope, setScope] = useState<Scope>('building');
  const [targetId, setTargetId] = useState<number | null>(null);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  // no default: whoever announces an outage says when it ends (a silent now + 8 h misled residents)
  const [restoreDate, setRestoreDate] = useState('');
  const [restoreTime, setRestoreTime] = useState('');
  const today = chinaParts(new Date()).date;
  const [pinned, setPinned] = useState(true);
  const { busy, errors, setErrors, submit: send } = useSubmit();
  // the buildings and areas to address, and the recent announcements with their delivery
  const staffGroups = useData(() => groupsApi.staffGroups({ quiet: true }), [], { onShow: true });
  const groups = staffGroups.data?.items ?? [];
  const recent = useData(() => groupsApi.announcements({ pageSize: 20 }, { quiet: true }), [], { onShow: true });
  const list = recent.data?.items ?? null;
  const loadList = recent.reload;

  // areas of the staff member, named by their estates (e.g. 锦绣家园、南湖新村)
  const areas = [...new Set(groups.map((g) => g.areaId))].map((id) => ({
    id,
    label: [...new Set(groups.filter((g) => g.areaId === id).map((g) => g.name.replace(/\d+号楼供热管家群$/, '').replace(/供热管家群$/, '')))].join('、'),
  }));
  const targets = scope === 'building' ? groups.map((g) => ({ id: g.buildingId, label: g.name.replace('供热管家群', '') })) : scope === 'area' ? areas : [];
  const needsRestore = ANNOUNCEMENT_NEEDS_RESTORE.includes(type);
  const targetLabel = (a: AnnouncementView) =>
    a.scope === 'all'
      ? '全部楼栋'
      : a.scope === 'area'
        ? `片区：${areas.find((x) => x.id === a.targetId)?.label ?? a.targetId}`
        : (groups.find((g) => g.buildingId === a.targetId)?.name.replace('供热管家群', '') ?? `楼栋${a.targetId}`);

  const submit = async () => {
    if (busy) return;
    if (needsRestore && (!restoreDate || !restoreTime)) {
      const message = !restoreDate ? '请选择预计恢复日期' : '请选择预计恢复时间';
      setErrors({ expectedRestoreAt: message });
      return void Taro.showToast({ title: message, icon: 'none' });
    }
    const request = {
      scope,
      ...(scope !== 'all' && targetId ? { targetId } : {}),
      type,
      title,
      body,
      ...(needsRestore ? { expectedRestoreAt: `${restoreDate}T${restoreTime}:00+08:00` } : {}),
      pinned,
    };
    await send(async () => {
      // the same checks as publishing, and how many residents it reaches: asked before anything is pushed
      const reach = await groupsApi.previewAnnouncement(request, { quiet: true });
      const where = reach.groups === 1 ? reach.groupNames[0] : `${reach.groups}个管家群`;
      const confirm = await Taro.showModal({
        title: '确认发布公告',
        content: `将发布到${where}，并向${reach.recipients}位住户推送微信订阅消息（未授权的住户在群内看到公告）。发布后无法撤回。`,
        confirmColor: '#e8590c',
        confirmText: '发布',
        cancelText: '再看看',
      });
      if (!confirm.confirm) return;
      const res = await groupsApi.announce(request, { quiet: true });
      Taro.showToast({ title: `已发布，推送${res.delivery.recipients}户`, icon: 'none' });
      setTitle('');
      setBody('');
      setRestoreDate('');
      setRestoreTime('');
      void loadList();
    });
  };

  return (
    <View className='page announce-page'>
      <LoadError error={staffGroups.error ?? recent.error} onRetry={() => void Promise.all([staffGroups.reload(), recent.reload()])} />
      <View className='card'>
        <View className='card-title'>公告类型</View>
        <View className='canned-cats'>
          {ANNOUNCEMENT_TYPES.map((t) => (
            <Text key={t} className={`tag ${type === t ? '' : 'tag-grey'}`} onClick={() => setType(t)} data-ann-type={t}>
              {ANNOUNCEMENT_TYPE_LABEL[t]}
            </Text>
          ))}
        </View>
        <View className='card-title'>发送范围</View>
        <Segmented<Scope>
          options={[
            { value: 'building', label: '单栋楼' },
            { value: 'area', label: '片区' },
            { value: 'all', label: '全部' },
          ]}
          value={scope}
          onChange={(v) => {
            setScope(v);
            setTargetId(null);
          }}
        />
        {scope !== 'all' ? (
          <View className='canned-cats' data-ann-targets>
            {targets.length ? (
              targets.map((t) => (
                <Text key={t.id} className={`tag ${targetId === t.id ? '' : 'tag-grey'}`} onClick={() => setTargetId(t.id)} data-ann-target={t.id}>
                  {t.label}
                </Text>
              ))
            ) : (
              <Text className='muted'>您负责的片区暂无楼栋</Text>
            )}
          </View>
        ) : (
          <View className='muted'>发送到公司全部楼栋的管家群（仅管理员）</View>
        )}
        {errors.targetId ? <View className='field-error'>{errors.targetId}</View> : null}
        <Field label='标题（20字以内，作为订阅消息标题）' name='ann-title' value={title} maxlength={20} error={errors.title} onInput={setTitle} />
        <View className='field'>
          <View className='field-label'>公告内容</View>
          <Textarea
            className={`input repair-textarea ${errors.body ? 'input-error' : ''}`}
            value={body}
            maxlength={2000}
            placeholder='如：因主管线抢修，3号楼暂停供热'
            onInput={(e) => setBody(e.detail.value)}
            data-ann-body
          />
          {errors.body ? <View className='field-error'>{errors.body}</View> : null}
        </View>
        {needsRestore ? (
          <View className='field'>
            <View className='field-label'>预计恢复时间（北京时间，必填）</View>
            <View className='row'>
              <Picker mode='date' value={restoreDate || today} start={today} onChange={(e) => setRestoreDate(String(e.detail.value))}>
                <View className={`input ${errors.expectedRestoreAt && !restoreDate ? 'input-error' : ''}`} data-restore-date>
                  {restoreDate || <Text className='muted'>选择日期</Text>}
                </View>
              </Picker>
              <Picker mode='time' value={restoreTime || '12:00'} onChange={(e) => setRestoreTime(String(e.detail.value))}>
                <View className={`input ${errors.expectedRestoreAt && !restoreTime ? 'input-error' : ''}`} data-restore-time>
                  {restoreTime || <Text className='muted'>选择时间</Text>}
                </View>
              </Picker>
            </View>
            {errors.expectedRestoreAt ? <View className='field-error'>{errors.expectedRestoreAt}</View> : null}
          </View>
        ) : null}
        <View className='row'>
          <Text>在群内置顶</Text>
          <Switch checked={pinned} color='#e8590c' onChange={(e) => setPinned(e.detail.value)} />
        </View>
        <View className={`btn btn-primary ${busy ? 'btn-disabled' : ''}`} onClick={submit} data-ann-submit>
          发布并推送订阅消息…
        </View>
        <View className='muted'>已授权“停热通知”的住户会立即收到微信订阅消息；未授权的住户在管家群中看到置顶公告。</View>
      </View>

      <View className='card-title'>最近公告</View>
      {list && !list.length ? <Empty>还没有发布过公告</Empty> : null}
      {list?.map((a) => (
        <View key={a.id} className='card' data-ann-id={a.id}>
          <View className='row'>
            <Text className='tag tag-red'>{a.typeLabel}</Text>
            <Text className='muted'>{chinaText(a.createdAt)}</Text>
          </View>
          <View className='card-title'>{a.title}</View>
          <View className='muted'>
            {targetLabel(a)}
            {a.expectedRestoreAt ? ` · 预计${chinaText(a.expectedRestoreAt)}恢复` : ''}
          </View>
          <View className='muted' data-ann-delivery>
            推送 {a.delivery.recipients} 户：已送达 {a.delivery.sent}，发送中 {a.delivery.pending}，未授权/超额 {a.delivery.refused}
          </View>
        </View>
      ))}
    </View>
  );
});
