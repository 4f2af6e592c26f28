import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { CANNED_CATEGORIES, CANNED_CATEGORY_LABEL, CANNED_PLACEHOLDERS, type CannedCategory } from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { Empty, Field, Segmented } from '../../components/ui';

interface Canned {
  id: number;
  category: CannedCategory;
  title: string;
  body: string;
}
type Draft = { id: number | null; category: CannedCategory; title: string; body: string };
const EMPTY: Draft = { id: null, category: 'room_temp', title: '', body: '' };

/** 标准话术库 (admins edit; every agent inserts them in the inbox): scripts by category with placeholders. */
export default function CannedReplies() {
  const [items, setItems] = useState<Canned[] | null>(null);
  const [category, setCategory] = useState<CannedCategory>('room_temp');
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});

  const load = (c = category) => api.get<{ items: Canned[] }>(`/api/v1/staff/canned-replies?category=${c}`).then((r) => setItems(r.items)).catch(() => undefined); // the request has already shown why (toast)
  useDidShow(() => void load());

  const save = async () => {
    if (!draft) return;
    setErrors({});
    const body = { category: draft.category, title: draft.title, body: draft.body };
    try {
      if (draft.id) await api.put(`/api/v1/staff/canned-replies/${draft.id}`, body, { quiet: true });
      else await api.post('/api/v1/staff/canned-replies', body, { quiet: true });
      Taro.showToast({ title: '已保存', icon: 'success' });
      setDraft(null);
      setCategory(draft.category);
      await load(draft.category);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const next: Record<string, string> = {};
      for (const f of (e.details?.fields ?? []) as { field: string; message: string }[]) next[f.field] ??= f.message;
      setErrors(Object.keys(next).length ? next : { body: e.message });
    }
  };

  const remove = async (c: Canned) => {
    const { confirm } = await Taro.showModal({ title: '删除话术', content: `确定删除“${c.title}”吗？`, confirmColor: '#c92a2a' });
    if (!confirm) return;
    await api.del(`/api/v1/staff/canned-replies/${c.id}`);
    await load();
  };

  if (draft) {
    return (
      <View className='page'>
        <View className='card'>
          <View className='card-title'>{draft.id ? '修改话术' : '新增话术'}</View>
          <Segmented<CannedCategory>
            options={CANNED_CATEGORIES.map((c) => ({ value: c, label: CANNED_CATEGORY_LABEL[c] }))}
            value={draft.category}
            onChange={(c) => setDraft({ ...draft, category: c })}
          />
          <Field label='标题' name='cannedTitle' value={draft.title} error={errors.title} onInput={(v) => setDraft({ ...draft, title: v })} maxlength={50} />
          <View className='field-label'>内容</View>
          <Textarea className='input canned-body' name='cannedBody' value={draft.body} maxlength={1000} onInput={(e) => setDraft({ ...draft, body: e.detail.value })} />
          {errors.body ? <View className='field-error'>{errors.body}</View> : null}
          <View className='muted'>可用占位符（回复时自动替换）：{CANNED_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}</View>
          <View className='btn btn-primary' onClick={save}>保存</View>
          <View className='btn btn-plain' onClick={() => setDraft(null)}>取消</View>
        </View>
      </View>
    );
  }

  return (
    <View className='page'>
      <Segmented<CannedCategory>
        options={CANNED_CATEGORIES.map((c) => ({ value: c, label: CANNED_CATEGORY_LABEL[c] }))}
        value={category}
        onChange={(c) => {
          setCategory(c);
          void load(c);
        }}
      />
      {items && !items.length ? <Empty>该类别还没有话术</Empty> : null}
      {items?.map((c) => (
        <View className='card canned-card' key={c.id}>
          <View className='row'>
            <Text className='strong'>{c.title}</Text>
            <View className='row'>
              <Text className='link' onClick={() => setDraft({ id: c.id, category: c.category, title: c.title, body: c.body })}>修改</Text>
              <Text className='link' style={{ marginLeft: '24px', color: '#c92a2a' }} onClick={() => remove(c)}>删除</Text>
            </View>
          </View>
          <View className='muted'>{c.body}</View>
        </View>
      ))}
      <View className='btn btn-primary' onClick={() => setDraft({ ...EMPTY, category })}>新增话术</View>
    </View>
  );
}
