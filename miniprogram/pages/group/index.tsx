import { useEffect, useRef, useState } from 'react';
import Taro, { useDidHide, useDidShow } from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import type { GroupMessageView } from '@heat-butler/shared';
import { ApiError, getSessionKind, getToken } from '../../services/api';
import { groupsApi } from '../../services/api/groups';
import { nav, PAGES } from '../../services/pages';
import { connectLive } from '../../services/realtime';
import { isResident } from '../../services/session';
import { asApiError, useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { MessageBubble, merge, time } from '../../components/group';
import { pickAndUpload } from '../../services/photo';
import { askSubscribe, subscribeCounts } from '../../services/subscribe';

/** 管家群: the resident's building groups: pinned announcements, messages live, ask a question. */
export default function Group() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const [groupId, setGroupId] = useState<number | null>(null);
  const [messages, setMessages] = useState<GroupMessageView[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [visible, setVisible] = useState(true);
  /** outage notices the resident can still receive (one per 允许) */
  const [noticesLeft, setNoticesLeft] = useState<number | null>(null);
  const [messagesError, setMessagesError] = useState<ApiError | null>(null);
  const lastId = useRef(0);
  lastId.current = messages.length ? messages[messages.length - 1].id : 0;

  const myGroups = useData(
    async () => {
      const r = await groupsApi.list();
      setGroupId((g) => (g && r.items.some((x) => x.id === g) ? g : (r.items[0]?.id ?? null)));
      return r.items;
    },
    [],
    { onShow: true, enabled: isResident },
  );
  const groups = myGroups.data ?? null;

  useDidShow(() => {
    setVisible(true);
    if (loggedIn) void subscribeCounts().then((c) => c && setNoticesLeft(c.announcement));
  });
  useDidHide(() => setVisible(false));

  // the unread mark is bookkeeping: a failure is corrected by the next read
  const markRead = (gid: number, upTo: number) => upTo && groupsApi.read({ id: gid }, { upTo }, { quiet: true }).catch(() => undefined);

  useEffect(() => {
    if (!groupId || !visible) return;
    let cancelled = false;
    setMessagesError(null);
    groupsApi
      .messages({ id: groupId }, { limit: 30 })
      .then((p) => {
        if (cancelled) return;
        setMessages(merge([], p.items));
        setHasMore(p.hasMore);
        if (p.items[0]) void markRead(groupId, p.items[0].id);
      })
      // shown above the messages; the live feed still polls
      .catch((e) => !cancelled && setMessagesError(asApiError(e)));
    const stop = connectLive({
      onFrame: (f) => {
        if (f.type === 'message' && f.message?.groupId === groupId) {
          setMessages((list) => merge(list, [f.message]));
          void markRead(groupId, f.message.id);
        } else if (f.type === 'hidden' && f.groupId === groupId) {
          setMessages((list) => list.filter((m) => m.id !== f.messageId));
        }
      },
      poll: async () => {
        const p = await groupsApi.messages({ id: groupId }, { after: lastId.current, limit: 100 }, { quiet: true });
        if (p.items.length) setMessages((list) => merge(list, p.items));
      },
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, [groupId, visible]);

  if (!loggedIn) {
    return (
      <View className='page'>
        <Empty>登录并绑定户号后自动加入本楼栋的供热管家群</Empty>
        <View className='btn btn-primary' onClick={() => nav.to(PAGES.login)}>
          微信登录
        </View>
      </View>
    );
  }
  if (groups && !groups.length) {
    return (
      <View className='page'>
        <Empty>绑定户号后自动加入本楼栋的管家群，停热、注水通知第一时间送达</Empty>
        <View className='btn btn-primary' onClick={() => nav.to(PAGES.bind)}>
          绑定户号
        </View>
      </View>
    );
  }
  const group = groups?.find((g) => g.id === groupId) ?? null;

  const loadEarlier = async () => {
    if (!groupId || !messages.length) return;
    const p = await groupsApi.messages({ id: groupId }, { before: messages[0].id, limit: 30 });
    setMessages((list) => merge(list, p.items));
    setHasMore(p.hasMore);
  };

  const send = async () => {
    if (!groupId || !text.trim() || sending) return;
    setSending(true);
    try {
      const m = await groupsApi.post({ id: groupId }, { text: text.trim() });
      setMessages((list) => merge(list, [m]));
      setText('');
    } catch (e) {
      // the API client showed the message (e.g. content security refused it); the text stays to edit
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setSending(false);
    }
  };

  /** 图片: pick one photo (chooseMedia; a file input in H5), upload it, post it as a message. */
  const sendPhoto = async () => {
    if (!groupId || sending) return;
    const [up] = await pickAndUpload(1, 'chat_photo');
    if (!up) return;
    setSending(true);
    try {
      const m = await groupsApi.post({ id: groupId }, { photo: up.id });
      setMessages((list) => merge(list, [m]));
      if (m.moderation === 'pending') Taro.showToast({ title: '图片审核中，通过后群成员可见', icon: 'none' });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setSending(false);
    }
  };

  const report = async (m: GroupMessageView) => {
    if (m.sender.mine || m.kind === 'announcement') return;
    const r = await Taro.showModal({ title: '举报该消息', content: '该消息含广告、辱骂或不实信息？管家会尽快处理。', confirmText: '举报' });
    if (!r.confirm) return;
    if (!groupId) return;
    await groupsApi.report({ id: groupId, messageId: m.id }, { reason: '不当内容' });
    Taro.showToast({ title: '已举报', icon: 'success' });
  };

  // one 允许 = one notice: say exactly that, and offer to add more
  const subscribe = async () => {
    const outcome = await askSubscribe('announcement'); // first thing in the tap
    if (outcome.counts) setNoticesLeft(outcome.counts.announcement);
    Taro.showToast({ title: outcome.accepted.length ? '已订阅 1 次停热通知' : '未订阅，将不会收到停热通知', icon: 'none' });
  };

  return (
    <View className='page group-page'>
      <LoadError error={myGroups.error} onRetry={myGroups.reload} />
      {groups && groups.length > 1 ? (
        <Segmented
          options={groups.map((g) => ({ value: String(g.id), label: g.name.replace('供热管家群', '') }))}
          value={String(groupId)}
          onChange={(v) => setGroupId(Number(v))}
        />
      ) : null}
      {group ? (
        <View className='row group-title'>
          <View>
            <View className='card-title'>{group.name}</View>
            <View className='muted'>{group.memberCount} 位住户 · 管家在线答疑</View>
          </View>
          <View className='tag' onClick={subscribe} data-subscribe-notices={noticesLeft ?? 0}>
            {noticesLeft ? `已订阅 ${noticesLeft} 次停热通知` : '接收停热通知'}
          </View>
        </View>
      ) : null}
      {group?.pinned.map((p) => (
        <View className='card pinned' key={p.id} data-pinned-id={p.id}>
          <Text className='tag tag-red'>置顶 · {p.announcement?.typeLabel ?? '公告'}</Text>
          <View className='msg-text'>{p.text}</View>
        </View>
      ))}
      {group?.mutedUntil ? <View className='muted'>您已被禁言至 {time(group.mutedUntil)}</View> : null}
      {hasMore ? (
        <View className='muted load-earlier' onClick={loadEarlier}>
          查看更早的消息
        </View>
      ) : null}
      <LoadError error={messagesError} />
      <View className='messages'>
        {messages.length ? (
          messages.map((m) => <MessageBubble key={m.id} m={m} onLongPress={() => void report(m)} />)
        ) : (
          <Empty>还没有消息，有问题可以直接问管家</Empty>
        )}
      </View>
      <View className='composer'>
        <View className='btn btn-plain composer-photo' onClick={sendPhoto} data-send-photo>
          图片
        </View>
        <Input
          className='input composer-input'
          value={text}
          maxlength={1000}
          placeholder='问问管家：室温、缴费、报停…'
          confirmType='send'
          onInput={(e) => setText(e.detail.value)}
          onConfirm={send}
        />
        <View className={`btn btn-primary composer-send ${!text.trim() || sending ? 'btn-disabled' : ''}`} onClick={send} data-send>
          发送
        </View>
      </View>
    </View>
  );
}
