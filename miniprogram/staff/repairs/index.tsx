import { useState } from 'react';
import Taro, { useDidShow, useRouter } from '@tarojs/taro';
import { Input, Text, Textarea, View } from '@tarojs/components';
import { formatChinaTime, formatMinutesLeft, minutesLeftState, type RepairAssignee, type RepairNotice, type StaffRepairView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { repairsApi } from '../../services/api/repairs';
import { me } from '../../services/session';
import { asApiError, useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { PhotoPicker } from '../../components/photo-picker';
import { staffPage } from '../../components/staff-page';
import { DeskLayout, useDesk } from '../../components/desk-layout';

type Tab = 'mine' | 'area' | 'pool' | 'overdue' | 'soon' | 'notices';
const TABS: readonly Tab[] = ['mine', 'area', 'pool', 'overdue', 'soon', 'notices'];
/** the staff list's filter per tab (升级提醒 has a list of its own) */
const LIST_QUERY = {
  mine: { mine: '1' },
  area: {},
  pool: { pool: '1' },
  overdue: { overdue: '1' },
  soon: { dueSoon: '1' },
} as const satisfies Record<Exclude<Tab, 'notices'>, Record<string, string>>;
/** a dispatcher may (re)assign in these states */
const ASSIGNABLE = ['pending', 'assigned', 'contacted', 'reopened'];

/** 改派: the area's butlers/workers, least loaded first, with an optional reason. */
function AssignPicker(props: { ticket: StaffRepairView; onAssign: (staffId: number, reason: string) => Promise<void>; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const assignees = useData(() => repairsApi.assignees({ id: props.ticket.id }), [props.ticket.id]);
  const list: RepairAssignee[] | undefined = assignees.error ? [] : assignees.data?.items;
  return (
    <View data-assign-picker>
      <View className='field-label'>改派给（片区管家/维修人员，按未完成工单数排序）</View>
      <Input className='input' value={reason} maxlength={200} placeholder='改派原因（选填）' onInput={(e) => setReason(e.detail.value)} />
      <LoadError error={assignees.error} onRetry={assignees.reload} />
      {list && !list.length && !assignees.error ? <View className='muted'>本片区没有可派的人员</View> : null}
      {list?.map((a) => (
        <View key={a.id} className='row list-item' data-assignee={a.id} onClick={() => props.onAssign(a.id, reason.trim())}>
          <Text>
            {a.name}
            {a.id === props.ticket.assigneeId ? '（当前）' : ''}
          </Text>
          <Text className='muted'>
            {a.roles.map((r) => (r === 'worker' ? '维修' : '管家')).join('、')} · 未完成 {a.open} 单
          </Text>
        </View>
      ))}
      <View className='btn btn-plain' onClick={props.onClose}>
        取消
      </View>
    </View>
  );
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
    const lines = materials
      .split(/\n+/)
      .map((l) => l.trim())
      .filter(Boolean);
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
      <Textarea
        className='input repair-textarea'
        data-resolve-notes
        value={notes}
        maxlength={500}
        placeholder='如：更换暖气片接口垫片，试压无渗漏'
        onInput={(e) => setNotes(e.detail.value)}
      />
      <View className='field-label'>使用材料（每行“名称 数量”，选填）</View>
      <Textarea className='input repair-textarea' value={materials} maxlength={400} placeholder='DN20球阀 1' onInput={(e) => setMaterials(e.detail.value)} />
      <View className='field-label'>完工照片</View>
      <PhotoPicker photos={photos} onChange={setPhotos} purpose='repair_photo' addData='add-resolve-photo' />
      <View className='btn btn-primary' data-resolve onClick={submit}>
        {busy ? '提交中…' : '完工'}
      </View>
    </View>
  );
}

/** Emergencies: report the result within 2 hours of finishing. */
function ReportForm(props: { dueAt: string; onSubmit: (report: string) => Promise<void> }) {
  const [text, setText] = useState('');
  return (
    <View data-report-form>
      <View className='field-label'>抢修结果汇报（{formatChinaTime(props.dueAt)} 前）</View>
      <Textarea
        className='input repair-textarea'
        value={text}
        maxlength={500}
        placeholder='处置经过、影响范围、是否恢复供热'
        onInput={(e) => setText(e.detail.value)}
      />
      <View
        className='btn btn-primary'
        onClick={() => (text.trim().length >= 2 ? props.onSubmit(text.trim()) : Taro.showToast({ title: '请填写处置结果', icon: 'none' }))}
      >
        提交汇报
      </View>
    </View>
  );
}

/** 维修工单: my tickets with time left, the area's unassigned pool (抢单), and overdue ones; field actions. */
export default staffPage(['agent', 'butler', 'dispatcher', 'worker', 'admin'], function StaffRepairs() {
  // ?tab= from the staff home's tiles (未完成 → area, 已超时 → overdue, 1小时内到期 → soon)
  const { params } = useRouter();
  const asked = TABS.find((x) => x === params.tab);
  const [tab, setTab] = useState<Tab>(asked ?? 'mine');
  const desk = useDesk();
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [dispatcher, setDispatcher] = useState(false);
  const [myId, setMyId] = useState(0);
  const [items, setItems] = useState<StaffRepairView[] | null>(null);
  const [notices, setNotices] = useState<RepairNotice[] | null>(null);
  const [picking, setPicking] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = (t: Tab = tab) => {
    setError(null);
    const loading =
      t === 'notices'
        ? repairsApi.notices().then((r) => {
            setNotices(r.items);
            // seen now: mark them read (they stay listed, without the 未读 mark next time; a failed mark shows them again)
            const newest = r.items[0]?.id;
            if (r.items.some((n) => !n.read) && newest) void repairsApi.readNotices({ upToId: newest }, { quiet: true }).catch(() => undefined);
          })
        : repairsApi.staffList(LIST_QUERY[t]).then((r) => setItems(r.items));
    return loading.catch((e) => setError(asApiError(e)));
  };
  useDidShow(() => {
    void me()
      .then((p) => {
        const d = p.kind === 'staff' && p.roles.some((r) => r === 'dispatcher' || r === 'admin');
        setDispatcher(d);
        if (p.kind === 'staff') setMyId(p.id);
        const first: Tab = d && tab === 'mine' ? 'area' : !d && tab === 'notices' ? 'mine' : tab;
        setTab(first);
        return load(first);
      })
      .catch(() => load());
  });
  const tabs: { value: Tab; label: string }[] = dispatcher
    ? [
        { value: 'area', label: '片区工单' },
        { value: 'pool', label: '待派单' },
        { value: 'overdue', label: '已超时' },
        { value: 'soon', label: '即将到期' },
        { value: 'notices', label: '升级提醒' },
      ]
    : [
        // agents and butlers are assigned the area's routine repairs; they see the area's too
        { value: 'mine', label: '我的工单' },
        { value: 'area', label: '片区工单' },
        { value: 'pool', label: '待抢单' },
        { value: 'overdue', label: '已超时' },
        { value: 'soon', label: '即将到期' },
      ];
  /** field actions: a worker/butler on their tickets (in the area's list only their own); a dispatcher only on tickets they hold themselves */
  const field = (t: StaffRepairView) => (!dispatcher && tab !== 'area') || t.assigneeId === myId;
  const assign = async (t: StaffRepairView, staffId: number, reason: string) => {
    setPicking(null);
    await act(() => repairsApi.assign({ id: t.id }, { staffId, ...(reason ? { reason } : {}) }));
    Taro.showToast({ title: '已派单', icon: 'success' });
  };

  const act = async (run: () => Promise<unknown>) => {
    try {
      await run();
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      await load();
    }
  };

  /** the full ticket with its actions (phone: every ticket in the list; desk: the selected one, beside the list) */
  const card = (t: StaffRepairView) => (
    <View className='card' key={t.id} data-staff-repair-id={t.id}>
      <View className='row'>
        <Text className='card-title'>
          {t.emergency ? '【紧急】' : ''}
          {t.categoryLabel}
        </Text>
        <Text className={minutesLeftState(t.minutesLeft) === 'overdue' ? 'tag tag-red' : 'tag'}>{t.statusLabel}</Text>
      </View>
      <View className='muted'>
        {t.no} · {t.address}
      </View>
      <View className='muted'>
        电话 {t.contactPhone} · {formatMinutesLeft(t.minutesLeft)}
        {t.escalationLevel ? ` · 已升级${t.escalationLevel === 1 ? '主管' : '部门负责人'}` : ''}
      </View>
      <View className='repair-desc'>{t.description}</View>
      {t.assigneeName ? <View className='muted'>处理人 {t.assigneeName}</View> : null}
      {dispatcher && ASSIGNABLE.includes(t.status) ? (
        picking === t.id ? (
          <AssignPicker ticket={t} onAssign={(id, reason) => assign(t, id, reason)} onClose={() => setPicking(null)} />
        ) : (
          <View className='btn btn-plain' data-reassign onClick={() => setPicking(t.id)}>
            {t.assigneeId ? '改派' : '派单'}
          </View>
        )
      ) : null}
      {tab === 'pool' && !dispatcher ? (
        <View className='btn btn-primary' data-grab onClick={() => act(() => repairsApi.grab({ id: t.id }))}>
          抢单
        </View>
      ) : null}
      {tab !== 'pool' && field(t) && t.status === 'assigned' ? (
        <View className='btn btn-plain' onClick={() => act(() => repairsApi.contact({ id: t.id }))}>
          已联系住户
        </View>
      ) : null}
      {tab !== 'pool' && field(t) && (t.status === 'assigned' || t.status === 'contacted') ? (
        <View className='btn btn-primary' data-arrive onClick={() => act(() => repairsApi.arrive({ id: t.id }))}>
          到达现场
        </View>
      ) : null}
      {field(t) && t.status === 'on_site' ? (
        <View>
          <View className='btn btn-primary' data-company-side onClick={() => act(() => repairsApi.side({ id: t.id }, { side: 'company' }))}>
            公司产权，免费维修
          </View>
          <View className='btn btn-plain' onClick={() => act(() => repairsApi.side({ id: t.id }, { side: 'resident', items: [{ code: 'visit', qty: 1 }] }))}>
            用户自有设施（收费，待住户确认）
          </View>
        </View>
      ) : null}
      {field(t) && t.status === 'in_progress' ? <ResolveForm onSubmit={(body) => act(() => repairsApi.resolve({ id: t.id }, body))} /> : null}
      {field(t) && t.emergency && t.reportDueAt && !t.reportedAt && (t.status === 'resolved' || t.status === 'closed') ? (
        <ReportForm dueAt={t.reportDueAt} onSubmit={(report) => act(() => repairsApi.submitReport({ id: t.id }, { report }))} />
      ) : null}
    </View>
  );
  // at a desk the first ticket shows until another is picked
  const selected = items?.find((t) => t.id === selectedId) ?? items?.[0] ?? null;

  return (
    <View className='page desk-page'>
      <Segmented<Tab>
        options={tabs}
        value={tab}
        onChange={(v) => {
          setTab(v);
          setPicking(null);
          setSelectedId(null);
          void load(v);
        }}
      />
      <LoadError error={error} onRetry={() => void load()} />
      {tab === 'notices' ? (
        <View data-repair-notices>
          {notices && !notices.length ? <Empty>没有提醒</Empty> : null}
          {notices?.map((n) => (
            <View className='card' key={n.id} data-notice-id={n.id}>
              <View className='row'>
                <Text className={n.kind === 'escalation' || n.kind === 'complaint' ? 'tag tag-red' : 'tag'}>
                  {n.kind === 'escalation' ? '升级' : n.kind === 'complaint' ? '投诉升级' : '派单'}
                  {n.read ? '' : ' · 未读'}
                </Text>
                <Text className='muted'>{formatChinaTime(n.createdAt)}</Text>
              </View>
              <View>{n.text}</View>
            </View>
          ))}
        </View>
      ) : null}
      {tab !== 'notices' && items && !items.length ? <Empty>{tab === 'soon' ? '1小时内没有要到期的工单' : '没有工单'}</Empty> : null}
      {tab === 'notices' ? null : (
        <DeskLayout
          desk={desk}
          phone='inline'
          empty='在左侧选择一张工单查看详情和操作'
          list={
            desk
              ? items?.map((t) => (
                  <View
                    key={t.id}
                    className={`card desk-item ${t.id === selected?.id ? 'desk-selected' : ''}`}
                    data-repair-row={t.id}
                    onClick={() => {
                      setSelectedId(t.id);
                      setPicking(null);
                    }}
                  >
                    <View className='row'>
                      <Text className='strong'>
                        {t.emergency ? '【紧急】' : ''}
                        {t.categoryLabel}
                      </Text>
                      <Text className={minutesLeftState(t.minutesLeft) === 'overdue' ? 'tag tag-red' : 'tag'}>{t.statusLabel}</Text>
                    </View>
                    <View className='muted'>
                      {t.no} · {formatMinutesLeft(t.minutesLeft)}
                    </View>
                    <View className='muted'>{t.address}</View>
                  </View>
                ))
              : items?.map(card)
          }
          detail={desk && selected ? card(selected) : null}
        />
      )}
    </View>
  );
});
