import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import {
  COMPLAINT_SOURCE_LABEL,
  COMPLAINT_SOURCES,
  EXTERNAL_NO_REQUIRED,
  formatChinaTime,
  formatMinutesLeft,
  type ComplaintSource,
  type StaffAccountRow,
  type StaffComplaintView,
} from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { accountsApi } from '../../services/api/accounts';
import { complaintsApi } from '../../services/api/complaints';
import { me } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';
import { Timeline } from '../../components/timeline';

type Tab = 'open' | 'processing' | 'resolved' | 'overdue' | 'escalated' | 'new';
const TABS: { value: Tab; label: string }[] = [
  { value: 'open', label: '待受理' },
  { value: 'processing', label: '处理中' },
  { value: 'resolved', label: '待回访' },
  { value: 'overdue', label: '已超时' },
  { value: 'escalated', label: '已升级' },
  { value: 'new', label: '登记' },
];
const LEVEL = ['', '已升级主管', '已升级部门负责人'];

/** A hotline (12345/12319) or phone complaint registered for a household found by 户号 or address. */
function FileForm(props: { onFiled: (c: StaffComplaintView) => void }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<StaffAccountRow[] | null>(null);
  const [account, setAccount] = useState<StaffAccountRow | null>(null);
  const [source, setSource] = useState<ComplaintSource>('hotline_12345');
  const [externalNo, setExternalNo] = useState('');
  const [content, setContent] = useState('');
  const [phone, setPhone] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const search = async () => setFound((await accountsApi.staffSearch({ q, pageSize: 10 })).items);
  const submit = async () => {
    if (!account) return;
    setErrors({});
    try {
      const c = await complaintsApi.staffFile(
        { accountId: account.id, source, content, ...(externalNo ? { externalNo } : {}), ...(phone ? { contactPhone: phone } : {}) },
        { quiet: true },
      );
      Taro.showToast({ title: '已登记', icon: 'success' });
      props.onFiled(c);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setErrors(e.fields);
      Taro.showToast({ title: e.message, icon: 'none' });
    }
  };
  return (
    <View className='card' data-complaint-file>
      <View className='card-title'>登记热线/电话投诉</View>
      <Field label='户号或地址' value={q} onInput={setQ} placeholder='如 0101010101 或 锦绣 1号楼' />
      <View className='btn btn-plain' onClick={() => void search()}>
        查找住户
      </View>
      {found && !found.length ? <View className='muted'>没有找到该住户</View> : null}
      {found?.map((a) => (
        <View key={a.id} className={`list-item row ${account?.id === a.id ? 'selected' : ''}`} onClick={() => setAccount(a)}>
          <Text>
            {a.accountNo} · {a.address}
          </Text>
          <Text className='muted'>{account?.id === a.id ? '✓' : ''}</Text>
        </View>
      ))}
      {errors.accountId ? <View className='field-error'>{errors.accountId}</View> : null}
      <View className='field-label'>投诉来源</View>
      <View className='repair-cats'>
        {COMPLAINT_SOURCES.filter((s) => s !== 'app').map((s) => (
          <View key={s} data-source={s} className={`tag ${s === source ? '' : 'tag-grey'} repair-cat`} onClick={() => setSource(s)}>
            {COMPLAINT_SOURCE_LABEL[s]}
          </View>
        ))}
      </View>
      {EXTERNAL_NO_REQUIRED.includes(source) ? <Field label='热线工单号' value={externalNo} onInput={setExternalNo} error={errors.externalNo} /> : null}
      <View className='field'>
        <View className='field-label'>投诉内容</View>
        <Textarea className='input repair-textarea' value={content} maxlength={500} onInput={(e) => setContent(e.detail.value)} />
        {errors.content ? <View className='field-error'>{errors.content}</View> : null}
      </View>
      <Field label='联系电话（选填）' value={phone} maxlength={13} onInput={setPhone} error={errors.contactPhone} />
      <View className='btn btn-primary' data-submit-complaint onClick={() => void submit()}>
        登记投诉
      </View>
    </View>
  );
}

/** One complaint: the facts, the deadline, the actions its state allows, the timeline. */
function Detail(props: { complaint: StaffComplaintView; canCall: boolean; onChange: (c: StaffComplaintView) => void; onBack: () => void }) {
  const c = props.complaint;
  const [text, setText] = useState('');
  const act = async (run: () => Promise<StaffComplaintView>) => {
    try {
      props.onChange(await run());
      setText('');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };
  const id = { id: c.id };
  const open = c.status === 'open' || c.status === 'processing';
  return (
    <View data-complaint-detail={c.id}>
      <View className='btn btn-plain' onClick={props.onBack}>
        ‹ 返回列表
      </View>
      <View className='card'>
        <View className='row'>
          <Text className='card-title'>投诉 {c.no}</Text>
          <Text className={c.overdue ? 'tag tag-red' : 'tag'}>{c.statusLabel}</Text>
        </View>
        <View className='muted'>
          {c.sourceLabel}
          {c.externalNo ? ` · 工单号 ${c.externalNo}` : ''} · {formatChinaTime(c.createdAt)}
        </View>
        <View className='muted'>
          {c.accountNo} · {c.address}
        </View>
        <View className='muted'>电话 {c.contactPhone}</View>
        <View>{c.content}</View>
        {open ? (
          <View className={c.overdue ? 'field-error' : 'muted'}>
            办结时限 {formatChinaTime(c.closeDueAt)}
            {c.extended ? '（住户同意延长）' : ''} · {formatMinutesLeft(c.minutesLeft)}
          </View>
        ) : null}
        {c.status === 'resolved' && c.callbackDueAt ? (
          <View className={c.overdue ? 'field-error' : 'muted'}>
            回访时限 {formatChinaTime(c.callbackDueAt)} · {formatMinutesLeft(c.minutesLeft)}
          </View>
        ) : null}
        {c.escalationLevel ? <View className='tag tag-red'>{LEVEL[c.escalationLevel]}</View> : null}
        {c.handlerName ? <View className='muted'>处理人 {c.handlerName}</View> : null}
        {c.agreementNote ? <View className='muted'>住户同意延长：{c.agreementNote}</View> : null}
        {c.resolution ? <View>处理结果：{c.resolution}</View> : null}
      </View>
      {c.status === 'open' ? (
        <View className='btn btn-primary' data-take onClick={() => act(() => complaintsApi.take(id))}>
          受理并处理
        </View>
      ) : null}
      {open || (c.status === 'resolved' && props.canCall) ? (
        <View className='card'>
          <View className='field-label'>{c.status === 'resolved' ? '回访记录（选填）' : '处理结果 / 住户同意延长的情况'}</View>
          <Textarea className='input repair-textarea' value={text} maxlength={500} onInput={(e) => setText(e.detail.value)} />
          {c.status === 'processing' ? (
            <View className='btn btn-primary' data-resolve onClick={() => act(() => complaintsApi.resolve(id, { resolution: text }))}>
              处理完毕
            </View>
          ) : null}
          {open && !c.extended ? (
            <View className='btn btn-plain' data-extend onClick={() => act(() => complaintsApi.extend(id, { note: text }))}>
              住户同意延长办结时限
            </View>
          ) : null}
          {c.status === 'resolved' ? (
            <View>
              <View
                className='btn btn-primary'
                data-callback='satisfied'
                onClick={() => act(() => complaintsApi.callback(id, { outcome: 'satisfied', notes: text || undefined }))}
              >
                回访：满意，办结
              </View>
              <View
                className='btn btn-plain'
                data-callback='unsatisfied'
                onClick={() => act(() => complaintsApi.callback(id, { outcome: 'unsatisfied', notes: text || undefined }))}
              >
                回访：不满意，升级部门负责人
              </View>
              <View
                className='btn btn-plain'
                data-callback='unreachable'
                onClick={() => act(() => complaintsApi.callback(id, { outcome: 'unreachable', notes: text || undefined }))}
              >
                回访：联系不上，办结
              </View>
            </View>
          ) : null}
        </View>
      ) : null}
      <Timeline title='处理记录' steps={c.timeline ?? []} />
    </View>
  );
}

/** 投诉处理: complaints of the staff member's areas by state, overdue and escalated ones, hotline registration, and one complaint's detail. */
export default staffPage(['agent', 'butler', 'dispatcher', 'admin'], function StaffComplaints() {
  const [tab, setTab] = useState<Tab>('open');
  const [selected, setSelected] = useState<StaffComplaintView | null>(null);
  // callbacks are the agents' (and admins') work, as for repairs
  const roles = useData(() => me().then((p) => (p.kind === 'staff' ? p.roles : [])), [], {});
  const canCall = (roles.data ?? []).some((r) => r === 'agent' || r === 'admin');
  const list = useData(
    () =>
      tab === 'new'
        ? Promise.resolve({ items: [] as StaffComplaintView[], total: 0, page: 1, pageSize: 50 })
        : complaintsApi.staffList(
            tab === 'overdue' ? { overdue: '1', pageSize: 50 } : tab === 'escalated' ? { escalated: '1', pageSize: 50 } : { status: tab, pageSize: 50 },
          ),
    [tab],
    { onShow: true },
  );
  const openDetail = async (id: number) => setSelected(await complaintsApi.staffGet({ id }));
  if (selected)
    return (
      <View className='page'>
        <Detail
          complaint={selected}
          canCall={canCall}
          onChange={(c) => void openDetail(c.id)}
          onBack={() => {
            setSelected(null);
            void list.reload();
          }}
        />
      </View>
    );
  const items = list.data?.items;
  return (
    <View className='page'>
      <Segmented<Tab> options={TABS} value={tab} onChange={setTab} />
      {tab === 'new' ? <FileForm onFiled={(c) => void openDetail(c.id)} /> : null}
      <LoadError error={list.error} onRetry={list.reload} />
      {tab !== 'new' && items && !items.length ? <Empty>没有投诉</Empty> : null}
      {tab === 'new'
        ? null
        : items?.map((c) => (
            <View className='card' key={c.id} data-staff-complaint-id={c.id} onClick={() => void openDetail(c.id)}>
              <View className='row'>
                <Text className='card-title'>{c.sourceLabel}</Text>
                <Text className={c.overdue ? 'tag tag-red' : 'tag'}>{c.statusLabel}</Text>
              </View>
              <View className='muted'>
                {c.no}
                {c.externalNo ? ` · ${c.externalNo}` : ''} · {c.address}
              </View>
              <View className='repair-desc'>{c.content}</View>
              <View className='muted'>
                {formatMinutesLeft(c.minutesLeft)}
                {c.escalationLevel ? ` · ${LEVEL[c.escalationLevel]}` : ''}
              </View>
            </View>
          ))}
    </View>
  );
});
