import { Input, Text, View } from '@tarojs/components';
import type { ReactNode } from 'react';

export function Field(props: {
  label: string;
  value: string;
  placeholder?: string;
  error?: string;
  type?: 'text' | 'number' | 'idcard' | 'digit';
  password?: boolean;
  maxlength?: number;
  name?: string;
  onInput: (v: string) => void;
}) {
  return (
    <View className='field'>
      <View className='field-label'>{props.label}</View>
      <Input
        className={`input ${props.error ? 'input-error' : ''}`}
        name={props.name}
        value={props.value}
        type={props.type ?? 'text'}
        password={props.password}
        maxlength={props.maxlength ?? 64}
        placeholder={props.placeholder}
        onInput={(e) => props.onInput(e.detail.value)}
      />
      {props.error ? <View className='field-error'>{props.error}</View> : null}
    </View>
  );
}

export function Segmented<T extends string>(props: { options: { value: T; label: string }[]; value: T; onChange: (v: T) => void }) {
  return (
    <View className='segmented'>
      {props.options.map((o) => (
        <View key={o.value} className={`segment ${o.value === props.value ? 'segment-active' : ''}`} onClick={() => props.onChange(o.value)}>
          {o.label}
        </View>
      ))}
    </View>
  );
}

export function Empty(props: { children: ReactNode }) {
  return (
    <View className='empty'>
      <Text>{props.children}</Text>
    </View>
  );
}

/** What went wrong loading a page's data (Chinese, from the error catalogue), with a retry. */
export function LoadError(props: { error: { message: string } | null | undefined; onRetry?: () => void }) {
  if (!props.error) return null;
  return (
    <View className='notice load-error' data-load-error>
      <Text>{props.error.message}</Text>
      {props.onRetry ? (
        <Text className='link load-error-retry' onClick={props.onRetry}>
          重试
        </Text>
      ) : null}
    </View>
  );
}
