import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { CANNED_CATEGORIES, CANNED_CATEGORY_LABEL, CANNED_PLACEHOLDERS, type CannedCategory, type CannedReply } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { groupsApi } from '../../services/api/groups';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError, Segmented } from '../../components/ui';
import { staffPage } from '../../components/staff-page';
type Draft = { id: number | null; category: CannedCategory; title: string; body: string };
const EMPTY: Draft = { id: null, category: 'room_temp', title: '', body: '' };

/** 标准话术库 (admins edit; every agent inserts them in the inbox): scripts by category with placeholders. */
export default staffPage(['admin'], function CannedReplies() {
  const [category, setCategory] = useState<CannedCategory>('room_temp');
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});

  const replies = useData(() => groupsApi.canned({ category }), [category], { onShow: true });
  const items = replies.data?.items;
  const load = replies.reload;

  const save = async () => {
    if (!draft) return;
    setErrors({});
    const body = { category: draft.category, title: draft.title, body: draft.body };
    try {
      if (draft.id) await groupsApi.updateCanned({ id: draft.id }, body, { quiet: true });
      else await groupsApi.createCanned(body, { quiet: true });
      Taro.showToast({ title: '已保存', icon: 'success' });
      setDraft(null);
      // the list of the draft's category (loaded by the switch, or again)
      if (draft.category !== category) setCategory(draft.category);
      else await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const fields = e.fields;
      setErrors(Object.keys(fields).length ? fields : { body: e.message });
    }
  };

  const remove = async (c: CannedReply) => {
    const { confirm } = await Taro.showModal({ title: '删除话术', content: `确定删除“${c.title}”吗？`, confirmColor: '#c92a2a' });
    if (!confirm) return;
    await groupsApi.deleteCanned({ id: c.id });
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
          <Textarea
            className='input canned-body'
            name='cannedBody'
            value={draft.body}
            maxlength={1000}
            onInput={(e) => setDraft({ ...draft, body: e.detail.value })}
          />
          {errors.body ? <View className='field-error'>{errors.body}</View> : null}
          <View className='muted'>可用占位符（回复时自动替换）：{CANNED_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}</View>
          <View className='btn btn-primary' onClick={save}>
            保存
          </View>
          <View className='btn btn-plain' onClick={() => setDraft(null)}>
            取消
          </View>
        </View>
      </View>
    );
  }

  return (
    <View className='page'>
      <Segmented<CannedCategory>
        options={CANNED_CATEGORIES.map((c) => ({ value: c, label: CANNED_CATEGORY_LABEL[c] }))}
        value={category}
        onChange={setCategory}
      />
      <LoadError error={replies.error} onRetry={load} />
      {items && !items.length ? <Empty>该类别还没有话术</Empty> : null}
      {items?.map((c) => (
        <View className='card canned-card' key={c.id}>
          <View className='row'>
            <Text className='strong'>{c.title}</Text>
            <View className='row'>
              <Text className='link' onClick={() => setDraft({ id: c.id, category: c.category, title: c.title, body: c.body })}>
                修改
              </Text>
              <Text className='link' style={{ marginLeft: '24px', color: '#c92a2a' }} onClick={() => remove(c)}>
                删除
              </Text>
            </View>
          </View>
          <View className='muted'>{c.body}</View>
        </View>
      ))}
      <View className='btn btn-primary' onClick={() => setDraft({ ...EMPTY, category })}>
        新增话术
      </View>
    </View>
  );
});
