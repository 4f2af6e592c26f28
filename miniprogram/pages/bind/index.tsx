import { useState } from 'react';
import Taro from '@tarojs/taro';
import { View } from '@tarojs/components';
import { BindRequest, BINDING_RELATIONS, BINDING_RELATION_LABEL, type BindingRelation } from '@heat-butler/shared';
import { Field, Segmented } from '../../components/ui';
import { useSubmit } from '../../services/use-submit';
import { accountsApi } from '../../services/api/accounts';
import { nav, PAGES } from '../../services/pages';
import { ensureResident } from '../../services/session';

type Fact = 'ownerName' | 'phoneLast4';

export default function Bind() {
  const [accountNo, setAccountNo] = useState('');
  const [fact, setFact] = useState<Fact>('ownerName');
  const [ownerName, setOwnerName] = useState('');
  const [phoneLast4, setPhoneLast4] = useState('');
  const [relation, setRelation] = useState<BindingRelation>('owner');
  const [alert, setAlert] = useState('');
  // the BFF's message is complete (tries left, or when to retry and the hotline): shown on the page
  const { busy, errors, setErrors, submit: send } = useSubmit({ onMessage: setAlert });

  const submit = async () => {
    setAlert('');
    const input = { accountNo, relation, ...(fact === 'ownerName' ? { ownerName } : { phoneLast4 }) };
    // the same schema the server uses: every problem shown at once
    const parsed = BindRequest.safeParse(input);
    if (!parsed.success) {
      const next: Record<string, string> = {};
      for (const i of parsed.error.issues) next[String(i.path[0])] ??= i.message;
      if (next.ownerName && fact === 'phoneLast4') next.phoneLast4 = next.ownerName;
      setErrors(next);
      return;
    }
    await send(async () => {
      if (!(await ensureResident())) return;
      const bound = await accountsApi.bind(input, { quiet: true });
      Taro.showToast({ title: '绑定成功', icon: 'success' });
      setTimeout(() => void nav.redirect(PAGES.accounts, { highlight: bound.accountId }), 600);
    });
  };

  return (
    <View className='page'>
      <View className='notice'>户号印在缴费通知单或缴费卡上。为保护住户信息，需同时核验户主姓名或预留手机号后4位。</View>
      <View className='card'>
        {alert ? <View className='alert'>{alert}</View> : null}
        <Field label='户号' name='accountNo' value={accountNo} placeholder='请输入户号' maxlength={24} error={errors.accountNo} onInput={setAccountNo} />
        <View className='field-label'>核验方式</View>
        <Segmented<Fact>
          options={[
            { value: 'ownerName', label: '户主姓名' },
            { value: 'phoneLast4', label: '手机号后4位' },
          ]}
          value={fact}
          onChange={setFact}
        />
        {fact === 'ownerName' ? (
          <Field label='户主姓名' name='ownerName' value={ownerName} placeholder='与缴费单上的户主姓名一致' error={errors.ownerName} onInput={setOwnerName} />
        ) : (
          <Field
            label='预留手机号后4位'
            name='phoneLast4'
            type='number'
            maxlength={4}
            value={phoneLast4}
            placeholder='4位数字'
            error={errors.phoneLast4}
            onInput={setPhoneLast4}
          />
        )}
        <View className='field-label'>我是</View>
        <Segmented<BindingRelation>
          options={BINDING_RELATIONS.map((r) => ({ value: r, label: BINDING_RELATION_LABEL[r] }))}
          value={relation}
          onChange={setRelation}
        />
        {errors.relation ? <View className='field-error'>{errors.relation}</View> : null}
        <View className='btn btn-primary' onClick={busy ? undefined : submit}>
          {busy ? '正在绑定…' : '绑定'}
        </View>
      </View>
    </View>
  );
}
