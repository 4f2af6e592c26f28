/**
 * The staff console at a desk: at ≥ 1024 px (H5 on a desktop browser, WeChat on PC) a page shows
 * its list and the selected item's detail side by side; on a phone the list alone, and a selected
 * item's detail in its place (`phone='replace'`, with 返回列表) or inside the list where the page
 * renders it (`phone='inline'`). The width comes from Taro's window info (both builds), never from
 * `window`.
 */
import { useState, type ReactNode } from 'react';
import Taro from '@tarojs/taro';
import { View } from '@tarojs/components';

/** The narrowest window that gets two panes (CSS px). */
export const DESK_MIN_WIDTH = 1024;

function windowWidth(): number {
  try {
    return (Taro.getWindowInfo ? Taro.getWindowInfo() : Taro.getSystemInfoSync()).windowWidth;
  } catch {
    return 375;
  }
}

/**
 * Is the window desk-wide? Decided when the page opens and kept: a resize (a desktop window
 * dragged narrower) never swaps the layout under a half-filled form — whatever is typed stays; the
 * next page opened takes the new width.
 */
export function useDesk(): boolean {
  const [desk] = useState(() => windowWidth() >= DESK_MIN_WIDTH);
  return desk;
}

export function DeskLayout(props: {
  desk: boolean;
  list: ReactNode;
  /** the selected item's detail, or null when nothing is selected */
  detail: ReactNode | null;
  /** phone: the detail replaces the list (with a back link), or the page shows it inline in the list */
  phone: 'replace' | 'inline';
  onBack?: () => void;
  /** what the empty right pane says at a desk */
  empty?: string;
}) {
  // each arrangement its own key: the runtime replaces the frame instead of patching its attributes
  if (props.desk)
    return (
      <View key='two-pane' className='desk' data-desk='two-pane'>
        <View className='desk-list' data-desk-list>
          {props.list}
        </View>
        <View className='desk-detail' data-desk-detail>
          {props.detail ?? <View className='desk-empty muted'>{props.empty ?? '在左侧选择一项查看详情'}</View>}
        </View>
      </View>
    );
  if (props.phone === 'replace' && props.detail)
    return (
      <View key='phone-detail' data-desk='phone-detail'>
        {props.onBack ? (
          <View className='desk-back link' onClick={props.onBack} data-desk-back>
            ‹ 返回列表
          </View>
        ) : null}
        <View data-desk-detail>{props.detail}</View>
        {/* the list stays in the page (hidden): its state and scroll survive the detail */}
        <View className='desk-hidden'>{props.list}</View>
      </View>
    );
  return (
    <View key='phone-list' data-desk='phone-list'>
      <View data-desk-list>{props.list}</View>
    </View>
  );
}
