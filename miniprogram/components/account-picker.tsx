import { useState } from 'react';
import { Text, View } from '@tarojs/components';
import type { BoundAccount } from '@heat-butler/shared';
import { accountsApi } from '../services/api/accounts';
import { useData } from '../services/use-data';

/** The resident's bound households (reloaded on show), the first one chosen once they load. */
export function useBoundAccounts() {
  const [accountId, setAccountId] = useState<number | null>(null);
  const bound = useData(
    async (): Promise<BoundAccount[]> => {
      const r = await accountsApi.list();
      if (r.items[0] && accountId === null) setAccountId(r.items[0].accountId);
      return r.items;
    },
    [],
    { onShow: true },
  );
  return { bound, accounts: bound.data ?? null, accountId, setAccountId };
}

/** Which household a form is for: one row per bound account, the chosen one ticked. */
export function AccountPicker(props: { label: string; accounts: readonly BoundAccount[] | null; value: number | null; onChange: (accountId: number) => void }) {
  return (
    <>
      <View className='field-label'>{props.label}</View>
      {props.accounts?.map((a) => (
        <View key={a.accountId} className={`list-item row ${a.accountId === props.value ? 'selected' : ''}`} onClick={() => props.onChange(a.accountId)}>
          <Text>{a.accountNo}</Text>
          <Text className='muted'>{a.accountId === props.value ? '✓' : ''}</Text>
        </View>
      ))}
    </>
  );
}
