import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Image, Text, Textarea, View } from '@tarojs/components';
import { formatChinaTime, type StaffRepairView } from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { Empty, Segmented } from '../../components/ui';
import { pickAndUpload } from '../../services/photo';

type Tab = 'mine' | 'pool' | 'overdue';

function timeLeft(t: StaffRepairView): string {
  if (t.minutesLeft === null) return '';
  const m = Math.abs(t.minutesLeft);
  const text = m >= 60 ? `${Math.floor(m / 60)}小时${m % 60}分` : `${m}分钟`;
  return t.minutesLeft < 0 ? `已超时 ${text}` : `剩余 ${text}`;
}

/** 完工: what was done, photos (up to 9), materials as "名称 数量" lines. */
function ResolveForm(props: { onSubmit: (body: { notes: string; photos: string[]; materials: { name: string; qty: number }[] }) => Promise<void> }) {
  const [notes, setNotes] = useState('');
  const [materials, setMaterials] = useState('');
  const [photos, setPhotos] = useState<{ id: string; url: string }[]>([]);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (busy) return;
    if (notes.trim().length < 2) return void Taro.showToast({ title: '请填写处理情况', icon: 'none' });
    setBusy(true);
    const lines = materials.split(/\n+/).map((l) => l.trim()).filter(Boolean);
    const parsed = lines.map((l) => {
      const m = /^(.+?)\s+(\d+(?:\.\d+)?)$/.exec(l);
      return m ? { name: m[1]!.slice(0, 40), qty: Number(m[2]) } : { name: l.slice(0, 40), qty: 1 };
    });
    try {
      await props.onSubmit({ notes: notes.trim(), photos: photos.map((p) => p.id), materials: parsed });
    } finally {
      setBusy(false);
    }
  };
  return (
    <View data-resolve-form>
      <View className='field-label'>处理情况</View>
      <Textarea className='input repair-textarea' data-resolve-notes value={notes} maxlength={500} placeholder='如：更换暖气片接口垫片，试压无渗漏' onInput={(e) => setNotes(e.detail.value)} />
      <View className='field-label'>使用材料（每行“名称 数量”，选填）</View>
      <Textarea className='input repair-textarea' value={materials} maxlength={400} placeholder='DN20球阀 1' onInput={(e) => setMaterials(e.detail.value)} />
      <View className='field-label'>完工照片</View>
      <View className='repair-photos'>
        {photos.map((p) => <Image key={p.id} className='repair-photo' src={API_BASE + p.url} mode='aspectFill' />)}
        {photos.length < 9 ? <View className='repair-photo repair-photo-add' data-add-resolve-photo onClick={async () => setPhotos([...photos, ...(await pickAndUpload(9 - photos.length))])}>＋</View> : null}
      </View>
      <View className='btn btn-primary' data-resolve onClick={submit}>{busy ? '提交中…' : '完工'}</View>
    </View>
  );
}

/** Emergencies: report the result within 2 hours of finishing. */
function ReportForm(props: { dueAt: string; onSubmit: (report: string) => Promise<void> }) {
  const [text, setText] = useState('');
  return (
    <View data-report-form>
      <View className='field-label'>抢修结果汇报（{formatChinaTime(props.dueAt)} 前）</View>
      <Textarea className='input repair-textarea' value={text} maxlength={500} placeholder='处置经过、影响范围、是否恢复供热' onInput={(e) => setText(e.detail.value)} />
      <View className='btn btn-primary' onClick={() => (text.trim().length >= 2 ? props.onSubmit(text.trim()) : Taro.showToast({ title: '请填写处置结果', icon: 'none' }))}>提交汇报</View>
    </View>
  );
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
          {t.status === 'in_progress' ? <ResolveForm onSubmit={(body) => act(t, 'resolve', body)} /> : null}
          {t.emergency && t.reportDueAt && !t.reportedAt && (t.status === 'resolved' || t.status === 'closed') ? (
            <ReportForm dueAt={t.reportDueAt} onSubmit={(report) => act(t, 'report', { report })} />
          ) : null}
        </View>
      ))}
    </View>
  );
}
