import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import { STAFF_ROLE_LABEL, STAFF_ROLES, formatChinaTime, type AreaView, type StaffRole, type StaffView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { adminApi } from '../../services/api/admin';
import { me } from '../../services/session';
import { asApiError } from '../../services/use-data';
import { Empty, Field, LoadError } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

type Editing = { id: number; roles: StaffRole[]; areaIds: number[]; errors: Record<string, string> };
type NewStaff = { username: string; name: string; password: string; roles: StaffRole[]; areaIds: number[] };
const EMPTY: NewStaff = { username: '', name: '', password: '', roles: [], areaIds: [] };
const toggle = <T,>(list: T[], v: T) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

function Chips<T extends string | number>(props: { options: { value: T; label: string }[]; value: T[]; onChange: (v: T[]) => void; name: string }) {
  return (
    <View className='admin-chips' data-chips={props.name}>
      {props.options.map((o) => (
        <Text
          key={String(o.value)}
          data-chip={String(o.value)}
          className={`admin-chip${props.value.includes(o.value) ? ' admin-chip-on' : ''}`}
          onClick={() => props.onChange(toggle(props.value, o.value))}
        >
          {o.label}
        </Text>
      ))}
    </View>
  );
}

type RolesAndAreasValue = { roles: StaffRole[]; areaIds: number[] };

/** 角色 and 负责片区 of a staff member, with their field errors (the new-staff form and the edit form). */
function RolesAndAreas<V extends RolesAndAreasValue>(props: {
  name: string;
  areas: AreaView[];
  value: V;
  errors: Record<string, string>;
  onChange: (v: V) => void;
}) {
  const { value, errors } = props;
  return (
    <>
      <View className='field'>
        <View className='field-label'>角色</View>
        <Chips
          name={`${props.name}roles`}
          options={STAFF_ROLES.map((r) => ({ value: r, label: STAFF_ROLE_LABEL[r] }))}
          value={value.roles}
          onChange={(roles) => props.onChange({ ...value, roles })}
        />
        {errors.roles ? <View className='field-error'>{errors.roles}</View> : null}
      </View>
      <View className='field'>
        <View className='field-label'>负责片区（不选则不限片区）</View>
        <Chips
          name={`${props.name}areas`}
          options={props.areas.map((a) => ({ value: a.id, label: `${a.name}（${a.code}）` }))}
          value={value.areaIds}
          onChange={(areaIds) => props.onChange({ ...value, areaIds })}
        />
        {errors.areaIds ? <View className='field-error'>{errors.areaIds}</View> : null}
      </View>
    </>
  );
}

/** 员工与片区 (admin): staff list, create, edit roles and areas, disable, WeChat invite codes; areas create/rename. */
export default staffPage(['admin'], function AdminStaff() {
  const [staff, setStaff] = useState<StaffView[]>([]);
  const [areas, setAreas] = useState<AreaView[]>([]);
  const [form, setForm] = useState<NewStaff>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [showForm, setShowForm] = useState(false);
  const [invites, setInvites] = useState<Record<number, { inviteCode: string; expiresAt: string }>>({});
  const [area, setArea] = useState({ code: '', name: '' });
  const [areaErrors, setAreaErrors] = useState<Record<string, string>>({});
  const [renames, setRenames] = useState<Record<number, string>>({});
  const [editing, setEditing] = useState<Editing | null>(null);
  const [myId, setMyId] = useState<number | null>(null);

  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const load = async () => {
    try {
      const [s, a] = await Promise.all([adminApi.staff(), adminApi.areas()]);
      setStaff(s.items);
      setAreas(a.items);
      setLoadError(null);
    } catch (e) {
      setLoadError(asApiError(e));
      return;
    }
    // who am I (not to disable oneself); without it every row offers the actions
    const p = await me().catch(() => null);
    if (p?.kind === 'staff') setMyId(p.id);
  };
  useDidShow(() => void load());

  const areaLabel = (id: number) => {
    const a = areas.find((x) => x.id === id);
    return a ? `${a.name}（${a.code}）` : `#${id}`;
  };

  const create = async () => {
    try {
      await adminApi.createStaff({ ...form, username: form.username.trim() }, { quiet: true });
      Taro.showToast({ title: '已创建', icon: 'success' });
      setForm(EMPTY);
      setErrors({});
      setShowForm(false);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setErrors(e.formErrors);
    }
  };

  const disable = async (s: StaffView) => {
    const { confirm } = await Taro.showModal({
      title: '停用员工',
      content: `停用后 ${s.name}（${s.username}）将立即退出登录且不能再登录。确定停用？`,
      confirmText: '停用',
    });
    if (!confirm) return;
    try {
      await adminApi.disableStaff({ id: s.id });
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  const unlock = async (s: StaffView) => {
    try {
      await adminApi.unlockStaff({ id: s.id });
      Taro.showToast({ title: '已解除锁定', icon: 'success' });
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  const saveEdit = async () => {
    if (!editing) return;
    try {
      await adminApi.updateStaff({ id: editing.id }, { roles: editing.roles, areaIds: editing.areaIds }, { quiet: true });
      Taro.showToast({ title: '已保存', icon: 'success' });
      setEditing(null);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setEditing({ ...editing, errors: e.formErrors });
    }
  };

  const invite = async (s: StaffView) => {
    try {
      const res = await adminApi.inviteStaff({ id: s.id });
      setInvites((m) => ({ ...m, [s.id]: res }));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  const createArea = async () => {
    try {
      await adminApi.createArea(area, { quiet: true });
      setArea({ code: '', name: '' });
      setAreaErrors({});
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setAreaErrors(e.formErrors);
    }
  };

  const rename = async (a: AreaView) => {
    const name = renames[a.id];
    if (name === undefined || name === a.name) return;
    try {
      await adminApi.renameArea({ id: a.id }, { name });
      setRenames(({ [a.id]: _, ...rest }) => rest);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  return (
    <View className='page admin-page'>
      <LoadError error={loadError} onRetry={() => void load()} />
      <View className='card'>
        <View className='row'>
          <Text className='card-title'>员工（{staff.length}）</Text>
          <Text className='link' data-new-staff onClick={() => setShowForm(!showForm)}>
            {showForm ? '收起' : '＋ 新建员工'}
          </Text>
        </View>
        {showForm ? (
          <View className='admin-form' data-staff-form>
            {errors.form ? <View className='alert'>{errors.form}</View> : null}
            <Field name='username' label='用户名（登录用）' value={form.username} error={errors.username} onInput={(v) => setForm({ ...form, username: v })} />
            <Field name='name' label='姓名' value={form.name} error={errors.name} onInput={(v) => setForm({ ...form, name: v })} />
            <Field
              name='password'
              label='初始密码（至少8位）'
              password
              value={form.password}
              error={errors.password}
              onInput={(v) => setForm({ ...form, password: v })}
            />
            <RolesAndAreas name='' areas={areas} value={form} errors={errors} onChange={setForm} />
            <View className='btn btn-primary' data-create-staff onClick={create}>
              创建
            </View>
          </View>
        ) : null}
        {!staff.length ? <Empty>还没有员工</Empty> : null}
        {staff.map((s) => (
          <View key={s.id} className='list-item' data-staff={s.username}>
            <View className='row'>
              <View>
                <Text className='strong'>{s.name}</Text>
                <Text className='muted'> {s.username}</Text>
              </View>
              <View>
                {s.disabled ? <Text className='tag tag-grey'>已停用</Text> : null}
                {s.wechatBound ? <Text className='tag tag-green'>已绑定微信</Text> : null}
                {s.loginLockedUntil ? <Text className='tag tag-red'>登录已锁定</Text> : null}
              </View>
            </View>
            {s.loginLockedUntil ? (
              <View className='notice admin-locked' data-locked={s.username}>
                密码错误次数过多，密码登录锁定至 {formatChinaTime(s.loginLockedUntil)}。确认是本人后可立即解除。
                <Text className='link' data-unlock onClick={() => unlock(s)}>
                  {' '}
                  解除锁定
                </Text>
              </View>
            ) : null}
            <View className='muted'>
              {s.roles.map((r) => STAFF_ROLE_LABEL[r as StaffRole] ?? r).join('、')}
              {s.areaIds.length ? ` · ${s.areaIds.map(areaLabel).join('、')}` : ' · 全部片区'}
            </View>
            {invites[s.id] ? (
              <View className='notice admin-invite' data-invite-code={invites[s.id]!.inviteCode}>
                微信绑定邀请码：<Text className='strong'>{invites[s.id]!.inviteCode}</Text>（{formatChinaTime(invites[s.id]!.expiresAt)}{' '}
                前有效，仅可使用一次）。请发给员工本人，在微信中绑定员工身份时填写。
              </View>
            ) : null}
            {editing?.id === s.id ? (
              <View className='admin-form' data-staff-edit={s.username}>
                {editing.errors.form ? <View className='alert'>{editing.errors.form}</View> : null}
                <RolesAndAreas name='edit-' areas={areas} value={editing} errors={editing.errors} onChange={setEditing} />
                <View className='row admin-actions'>
                  <View className='btn btn-primary' data-save-staff onClick={saveEdit}>
                    保存
                  </View>
                  <Text className='link' onClick={() => setEditing(null)}>
                    取消
                  </Text>
                </View>
              </View>
            ) : null}
            {!s.disabled ? (
              <View className='row admin-actions'>
                {editing?.id !== s.id ? (
                  <Text className='link' data-edit onClick={() => setEditing({ id: s.id, roles: s.roles as StaffRole[], areaIds: s.areaIds, errors: {} })}>
                    修改角色和片区
                  </Text>
                ) : null}
                <Text className='link' data-invite onClick={() => invite(s)}>
                  {s.wechatBound ? '重新生成绑定邀请码' : '生成微信绑定邀请码'}
                </Text>
                {s.id !== myId ? (
                  <Text className='link admin-danger' data-disable onClick={() => disable(s)}>
                    停用
                  </Text>
                ) : (
                  <Text className='muted'>（本人）</Text>
                )}
              </View>
            ) : null}
          </View>
        ))}
      </View>

      <View className='card'>
        <View className='card-title'>片区（{areas.length}）</View>
        {areas.map((a) => (
          <View key={a.id} className='row list-item' data-area={a.code}>
            <Text className='admin-area-code'>{a.code}</Text>
            <Input className='input admin-area-name' value={renames[a.id] ?? a.name} onInput={(e) => setRenames((m) => ({ ...m, [a.id]: e.detail.value }))} />
            <Text className={renames[a.id] !== undefined && renames[a.id] !== a.name ? 'link' : 'muted'} onClick={() => rename(a)}>
              改名
            </Text>
          </View>
        ))}
        <View className='admin-form' data-area-form>
          {areaErrors.form ? <View className='alert'>{areaErrors.form}</View> : null}
          <Field name='areaCode' label='新片区编码（如 A04）' value={area.code} error={areaErrors.code} onInput={(v) => setArea({ ...area, code: v })} />
          <Field name='areaName' label='新片区名称' value={area.name} error={areaErrors.name} onInput={(v) => setArea({ ...area, name: v })} />
          <View className='btn btn-plain' data-create-area onClick={createArea}>
            新建片区
          </View>
        </View>
      </View>
    </View>
  );
});
