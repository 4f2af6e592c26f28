import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Textarea, View } from '@tarojs/components';
import { complaintsApi } from '../../services/api/complaints';
import { nav, PAGES } from '../../services/pages';
import { useSubmit } from '../../services/use-submit';
import { askSubscribe, subscribeToast } from '../../services/subscribe';
import { Empty, Field, LoadError } from '../../components/ui';
import { AccountPicker, useBoundAccounts } from '../../components/account-picker';

/** 我要投诉: the household, what went wrong, a phone (blank = the account's). */
export default function NewComplaint() {
  const { bound, accounts, accountId, setAccountId } = useBoundAccounts();
  const [content, setContent] = useState('');
  const [phone, setPhone] = useState('');
  const { busy, errors, submit: send } = useSubmit();

  const submit = () => {
    if (!accountId || busy) return;
    // in the tap, before any await: the answer as a message (one per 允许)
    const asked = askSubscribe('complaint');
    return send(async () => {
      const c = await complaintsApi.file({ accountId, content, ...(phone ? { contactPhone: phone } : {}) }, { quiet: true });
      const tip = subscribeToast(await asked);
      if (tip) Taro.showToast({ title: tip, icon: 'none' });
      void nav.redirect(PAGES.complaintDetail, { id: c.id });
    });
  };

  if (accounts && !accounts.length)
    return (
      <View className='page'>
        <Empty>请先绑定户号再投诉</Empty>
      </View>
    );
  return (
    <View className='page'>
      <LoadError error={bound.error} onRetry={bound.reload} />
      <View className='card'>
        <View className='muted'>投诉受理后一般24小时内办结，复杂问题经您同意可延长；处理后客服会回访。报修请走“报修”，处理更快。</View>
      </View>
      <View className='card'>
        <AccountPicker label='投诉户号' accounts={accounts} value={accountId} onChange={setAccountId} />
        <View className='field'>
          <View className='field-label'>投诉内容</View>
          <Textarea
            className='input repair-textarea'
            name='content'
            value={content}
            maxlength={500}
            placeholder='请写明问题和经过，如：报修三天无人上门'
            onInput={(e) => setContent(e.detail.value)}
          />
          {errors.content ? <View className='field-error'>{errors.content}</View> : null}
        </View>
        <Field label='联系电话（不填则使用户号登记电话）' type='text' maxlength={13} value={phone} onInput={setPhone} error={errors.contactPhone} />
      </View>
      <View className='btn btn-primary' data-submit-complaint onClick={submit}>
        {busy ? '提交中…' : '提交投诉'}
      </View>
    </View>
  );
}
