import { useEffect, useState } from 'react';
import Taro, { useDidHide, useDidShow } from '@tarojs/taro';
import { Input, Text, Textarea, View } from '@tarojs/components';
import {
  CANNED_CATEGORIES,
  CANNED_CATEGORY_LABEL,
  HELP_LINKS,
  REPAIR_CATEGORIES,
  REPAIR_CATEGORY_LABEL,
  type CannedCategory,
  type RepairCategory,
  type HelpLink,
  type CannedReply,
  type InboxItem,
} from '@heat-butler/shared';
import { getSessionKind } from '../../services/api';
import { groupsApi } from '../../services/api/groups';
import { connectLive } from '../../services/realtime';
import { useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { MessageBubble } from '../../components/group';
import { ModerationTrail } from '../../components/moderation';
import { staffPage } from '../../components/staff-page';
import { DeskLayout, useDesk } from '../../components/desk-layout';
import { ResidentContext } from '../../components/resident-context';

type View3 = 'pending' | 'mine' | 'all';

const waiting = (s: number | null) =>
  s === null ? '' : s < 60 ? `${s}秒` : s < 3600 ? `${Math.floor(s / 60)}分钟` : `${Math.floor(s / 3600)}小时${Math.floor((s % 3600) / 60)}分`;
const mins = (s: number | null) => (s === null ? '—' : `${Math.round(s / 60)}分钟`);

/** A question as the list and the open conversation show it: group, how long it waits, the message, who took it. */
function QuestionSummary({ item }: { item: InboxItem }) {
  return (
    <>
      <View className='row'>
        <Text className='muted'>{item.groupName}</Text>
        {item.waitingSeconds !== null ? <Text className='tag tag-red'>等待{waiting(item.waitingSeconds)}</Text> : <Text className='tag tag-green'>已回复</Text>}
      </View>
      <MessageBubble m={item.message} staff />
      {item.claimedBy ? <Text className='tag tag-grey'>{item.claimedBy.name} 负责</Text> : null}
    </>
  );
}

/** 管家群收件箱: questions of the agent's areas; claim, answer with a standard reply, moderate. */
export default staffPage(['agent', 'butler', 'admin'], function StaffInbox() {
  const [view, setView] = useState<View3>('pending');
  const [selected, setSelected] = useState<InboxItem | null>(null);
  const [reply, setReply] = useState('');
  const [link, setLink] = useState<HelpLink | null>(null);
  const [q, setQ] = useState('');
  const [category, setCategory] = useState<CannedCategory | 'all'>('all');
  const [note, setNote] = useState('');
  const [repairCat, setRepairCat] = useState<RepairCategory | null>(null);
  const [visible, setVisible] = useState(true);
  const [trail, setTrail] = useState(false);
  const desk = useDesk();

  const inbox = useData(() => groupsApi.inbox({ view, pageSize: 50 }, { quiet: true }), [view], { onShow: true });
  const page = inbox.data;
  const load = inbox.reload;
  // first-response figures: a failure leaves them out, the inbox still works
  const firstResponse = useData(() => groupsApi.metrics({}, { quiet: true }), [], { onShow: true });
  const metrics = firstResponse.data;
  const loadMetrics = firstResponse.reload;

  useDidShow(() => setVisible(true));
  useDidHide(() => setVisible(false));

  useEffect(() => {
    if (!visible || getSessionKind() !== 'staff') return;
    return connectLive({
      onFrame: (f) => {
        if (f.type === 'inbox') void load();
      },
      poll: async () => {
        await load();
      },
      pollMs: 10_000,
    });
  }, [visible]);

  const replies = useData(
    () => groupsApi.canned({ q: q.trim() || undefined, category: category === 'all' ? undefined : category }, { quiet: true }),
    [q, category],
  );
  const canned = replies.data?.items ?? [];

  const claim = async (item: InboxItem) => {
    const updated = await groupsApi.claim({ id: item.message.id });
    setSelected(updated);
    void load();
  };

  const useCanned = async (c: CannedReply) => {
    if (!selected) return;
    const r = await groupsApi.renderCanned({ id: c.id }, { messageId: selected.message.id });
    setReply(r.text);
  };

  const send = async () => {
    if (!selected || (!reply.trim() && !link)) return;
    await groupsApi.staffPost({ id: selected.message.groupId }, { text: reply.trim() || undefined, quoteId: selected.message.id, link: link ?? undefined });
    Taro.showToast({ title: '已回复', icon: 'success' });
    setReply('');
    setLink(null);
    setSelected(null);
    void load();
    void loadMetrics();
  };

  /** 转报修: book a repair ticket for the resident from this message; the group gets a reply with the ticket number. */
  const toRepair = async () => {
    if (!selected || !repairCat) return;
    const r = await groupsApi.toRepair({ id: selected.message.id }, { category: repairCat, emergency: repairCat === 'leak' });
    Taro.showToast({ title: `已转报修 ${r.ticket.no}`, icon: 'none' });
    setRepairCat(null);
    setSelected(null);
    void load();
    void loadMetrics();
  };

  const hide = async () => {
    if (!selected) return;
    const r = await Taro.showModal({ title: '隐藏该消息', content: '住户将看不到该消息，记录保留备查。', confirmText: '隐藏' });
    if (!r.confirm) return;
    await groupsApi.hide({ id: selected.message.id }, { reason: '违反群规' });
    setSelected(null);
    void load();
  };

  const mute = async () => {
    if (!selected?.message.sender.residentId) return;
    await groupsApi.mute({ id: selected.message.groupId }, { residentId: selected.message.sender.residentId, minutes: 60, reason: '刷屏' });
    Taro.showToast({ title: '已禁言1小时', icon: 'none' });
  };

  const saveNote = async () => {
    if (!selected?.message.sender.residentId || !note.trim()) return;
    await groupsApi.addNote({ id: selected.message.sender.residentId }, { body: note.trim() });
    setNote('');
    Taro.showToast({ title: '备注已保存', icon: 'none' });
  };

  return (
    <View className='page inbox-page'>
      <LoadError error={inbox.error} onRetry={load} />
      {metrics ? (
        <View className='card row inbox-metrics'>
          <View>
            <View className='muted'>待回复</View>
            <View className='card-title' data-unanswered>
              {metrics.unanswered}
            </View>
          </View>
          {metrics.perArea.map((a) => (
            <View key={a.areaId}>
              <View className='muted'>首次响应 中位 / P90</View>
              <View className='card-title'>
                {mins(a.medianSeconds)} / {mins(a.p90Seconds)}
              </View>
            </View>
          ))}
          <View>
            <View className='muted'>入群率</View>
            <View className='card-title'>
              {Math.round(
                (metrics.joinRate.reduce((s, g) => s + g.joined, 0) /
                  Math.max(
                    1,
                    metrics.joinRate.reduce((s, g) => s + g.households, 0),
                  )) *
                  100,
              )}
              %
            </View>
          </View>
        </View>
      ) : null}
      {metrics?.perAgent.length ? (
        <View className='card inbox-agents'>
          <View className='muted'>各客服首次响应（中位 / P90）</View>
          {metrics.perAgent.map((a) => (
            <View className='row list-item' key={a.staffId}>
              <Text>{a.name}</Text>
              <Text className='muted'>
                {mins(a.medianSeconds)} / {mins(a.p90Seconds)}
              </Text>
            </View>
          ))}
        </View>
      ) : null}
      <View className='row'>
        <Text className='link' data-moderation-trail onClick={() => setTrail(!trail)}>
          {trail ? '收起内容审核记录' : '内容审核记录'}
        </Text>
      </View>
      {trail ? <ModerationTrail /> : null}
      <DeskLayout
        desk={desk}
        phone='replace'
        onBack={() => setSelected(null)}
        empty='在左侧选择一条住户提问，查看住户信息并回复'
        list={
          <View>
            <Segmented<View3>
              options={[
                { value: 'pending', label: '待回复' },
                { value: 'mine', label: '我的' },
                { value: 'all', label: '全部' },
              ]}
              value={view}
              onChange={setView}
            />
            {page && !page.items.length ? <Empty>{view === 'pending' ? '没有待回复的问题' : '暂无消息'}</Empty> : null}
            {page?.items.map((item) => (
              <View
                key={item.message.id}
                className={`card inbox-item ${selected?.message.id === item.message.id ? 'inbox-selected' : ''}`}
                data-inbox-id={item.message.id}
                onClick={() => setSelected(item)}
              >
                <QuestionSummary item={item} />
              </View>
            ))}
          </View>
        }
        detail={
          selected ? (
            <View className={desk ? 'inbox-detail inbox-detail-desk' : 'inbox-detail'}>
              <View className='inbox-conv'>
                <View className='card inbox-question' data-inbox-question={selected.message.id}>
                  <QuestionSummary item={selected} />
                </View>
                {desk ? null : (
                  <ResidentContext key={selected.message.id} messageId={selected.message.id} residentId={selected.message.sender.residentId ?? null} />
                )}
                <View className='card reply-panel'>
                  <View className='card-title'>回复 {selected.message.sender.label}</View>
                  <View className='row'>
                    {!selected.claimedBy && selected.waitingSeconds !== null ? (
                      <View className='tag' onClick={() => claim(selected)} data-claim>
                        认领（首问负责）
                      </View>
                    ) : null}
                    <View className='tag tag-grey' onClick={hide}>
                      隐藏
                    </View>
                    <View className='tag tag-grey' onClick={mute}>
                      禁言1小时
                    </View>
                  </View>
                  <Input className='input' value={q} placeholder='搜索标准话术' onInput={(e) => setQ(e.detail.value)} />
                  <View className='canned-cats'>
                    {(['all', ...CANNED_CATEGORIES] as const).map((c) => (
                      <Text key={c} className={`tag ${category === c ? '' : 'tag-grey'}`} onClick={() => setCategory(c)}>
                        {c === 'all' ? '全部' : CANNED_CATEGORY_LABEL[c]}
                      </Text>
                    ))}
                  </View>
                  <View className='canned-list'>
                    {canned.slice(0, 8).map((c) => (
                      <View key={c.id} className='canned-item' onClick={() => useCanned(c)} data-canned-id={c.id}>
                        <Text className='tag tag-grey'>{CANNED_CATEGORY_LABEL[c.category]}</Text> {c.title}
                      </View>
                    ))}
                  </View>
                  <Textarea
                    className='input reply-input'
                    value={reply}
                    maxlength={1000}
                    placeholder='输入回复，或点选上方标准话术'
                    onInput={(e) => setReply(e.detail.value)}
                    data-reply
                  />
                  <View className='canned-cats'>
                    {(Object.keys(HELP_LINKS) as HelpLink[]).map((k) => (
                      <Text key={k} className={`tag ${link === k ? '' : 'tag-grey'}`} onClick={() => setLink(link === k ? null : k)}>
                        附：{HELP_LINKS[k].title}
                      </Text>
                    ))}
                  </View>
                  <View className='btn btn-primary' onClick={send} data-send-reply>
                    发送回复
                  </View>
                  {selected.message.repairTicketId ? (
                    <View className='muted'>该消息已转为报修工单</View>
                  ) : (
                    <View data-to-repair>
                      <View className='canned-cats'>
                        <Text className='muted'>转报修：</Text>
                        {REPAIR_CATEGORIES.map((c) => (
                          <Text
                            key={c}
                            className={`tag ${repairCat === c ? '' : 'tag-grey'}`}
                            onClick={() => setRepairCat(repairCat === c ? null : c)}
                            data-repair-category={c}
                          >
                            {REPAIR_CATEGORY_LABEL[c]}
                          </Text>
                        ))}
                      </View>
                      {repairCat ? (
                        <View className='btn btn-plain' onClick={toRepair} data-to-repair-submit>
                          转为报修工单（{REPAIR_CATEGORY_LABEL[repairCat]}）并回复住户
                        </View>
                      ) : null}
                    </View>
                  )}
                  <Input className='input' value={note} placeholder='仅员工可见的备注（如：老人独居，耐心解释）' onInput={(e) => setNote(e.detail.value)} />
                  <View className='btn btn-plain' onClick={saveNote}>
                    保存备注
                  </View>
                </View>
              </View>
              {desk ? (
                <ResidentContext key={selected.message.id} messageId={selected.message.id} residentId={selected.message.sender.residentId ?? null} />
              ) : null}
            </View>
          ) : null
        }
      />
    </View>
  );
});
