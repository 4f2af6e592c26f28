import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Switch, Text, Textarea, View } from '@tarojs/components';
import { REPAIR_CATEGORIES, REPAIR_CATEGORY_LABEL, type RepairCategory } from '@heat-butler/shared';
import { useSubmit } from '../../services/use-submit';
import { repairsApi } from '../../services/api/repairs';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { Empty, Field, LoadError } from '../../components/ui';
import { AccountPicker, useBoundAccounts } from '../../components/account-picker';
import { PhotoPicker } from '../../components/photo-picker';
import { askSubscribe, subscribeToast } from '../../services/subscribe';

/** 在线报修: category, emergency, description, up to 9 photos, phone (blank = the account's), own reading for low temperature. */
export default function NewRepair() {
  const { bound, accounts, accountId, setAccountId } = useBoundAccounts();
  const [category, setCategory] = useState<RepairCategory>('no_heat');
  const [emergency, setEmergency] = useState(false);
  const [description, setDescription] = useState('');
  const [photos, setPhotos] = useState<{ id: string; url: string }[]>([]);
  const [phone, setPhone] = useState('');
  const [reading, setReading] = useState('');
  const { busy, errors, submit: send } = useSubmit();

  // which categories the company counts as emergencies (settings: repairs.categories)
  const options = useData(() => repairsApi.options({ quiet: true }), []);

  const submit = () => {
    if (!accountId || busy) return;
    // in the tap, before any await: progress messages (one per 允许)
    const asked = askSubscribe('repair');
    return send(async () => {
      const body = {
        accountId,
        category,
        emergency,
        description,
        photos: photos.map((p) => p.id),
        ...(phone ? { contactPhone: phone } : {}),
        ...(category === 'low_temp' && reading ? { residentReadingC: Number(reading) } : {}),
      };
      const t = await repairsApi.create(body, { quiet: true });
      const tip = subscribeToast(await asked);
      if (tip) Taro.showToast({ title: tip, icon: 'none' });
      void nav.redirect(PAGES.repairDetail, { id: t.id });
    });
  };

  if (accounts && !accounts.length)
    return (
      <View className='page'>
        <Empty>请先绑定户号再报修</Empty>
      </View>
    );
  const alwaysUrgent = !!options.data?.categories.find((c) => c.value === category)?.emergency;
  const urgent = emergency || alwaysUrgent;
  return (
    <View className='page'>
      <LoadError error={bound.error} onRetry={bound.reload} />
      <View className='card'>
        <AccountPicker label='报修户号' accounts={accounts} value={accountId} onChange={setAccountId} />
      </View>
      <View className='card'>
        <View className='field-label'>报修类型</View>
        <View className='repair-cats'>
          {REPAIR_CATEGORIES.map((c) => (
            <View key={c} data-category={c} className={`tag ${c === category ? '' : 'tag-grey'} repair-cat`} onClick={() => setCategory(c)}>
              {REPAIR_CATEGORY_LABEL[c]}
            </View>
          ))}
        </View>
        <View className='row repair-urgent'>
          <Text>紧急（漏水、跑水）</Text>
          <Switch checked={urgent} disabled={alwaysUrgent} onChange={(e) => setEmergency(e.detail.value)} />
        </View>
        {urgent ? <View className='muted'>紧急报修全天候处理，抢修人员将尽快上门。</View> : null}
        <View className='field'>
          <View className='field-label'>问题描述</View>
          <Textarea
            className='input repair-textarea'
            name='description'
            value={description}
            maxlength={500}
            placeholder='请描述问题，如：卧室暖气片上热下凉'
            onInput={(e) => setDescription(e.detail.value)}
          />
          {errors.description ? <View className='field-error'>{errors.description}</View> : null}
        </View>
        {category === 'low_temp' ? (
          <Field label='您测得的室温（℃，选填）' type='digit' value={reading} onInput={setReading} error={errors.residentReadingC} />
        ) : null}
        <Field label='联系电话（不填则使用户号登记电话）' type='number' maxlength={11} value={phone} onInput={setPhone} error={errors.contactPhone} />
        <View className='field-label'>照片（最多9张）</View>
        <PhotoPicker photos={photos} onChange={setPhotos} purpose='repair_photo' addData='add-photo' />
      </View>
      <View className='btn btn-primary' data-submit-repair onClick={submit}>
        {busy ? '提交中…' : '提交报修'}
      </View>
    </View>
  );
}
