import { Modal, MultiSelect, Select, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { ApiError } from '../../api/api-client';
import type { Profile, Role } from '../../api/types';
import { useSubmit } from '../../api/use-submit';
import { ConfirmModal } from '../../components/confirm-modal';
import { FormActions } from '../../components/form-actions';
import { useSession } from '../../session/session-context';
import { subtreeIds, treeOrder } from './role-order';

const indent = (r: Role) => `${'\u2003'.repeat(r.depth)}${r.name}`;

/** Create a role under `parent`, or change `role`: its name, its place in the tree and its profiles. */
export function RoleModal({
  roles,
  profiles,
  parent,
  role,
  onClose,
  onSaved,
}: {
  roles: Role[];
  profiles: Profile[];
  parent?: Role;
  role?: Role;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { api } = useSession();
  const [name, setName] = useState(role?.name ?? '');
  const [parentId, setParentId] = useState<string | null>(
    String(role ? (role.parentId ?? '') : (parent?.id ?? '')) || null,
  );
  const [profileIds, setProfileIds] = useState<string[]>(
    (role?.profileIds ?? parent?.profileIds ?? []).map(String),
  );
  const isRoot = role !== undefined && role.parentId === null;
  const excluded = role ? subtreeIds(roles, role.id) : new Set<number>();
  const parents = treeOrder(roles)
    .filter((r) => !excluded.has(r.id))
    .map((r) => ({ value: String(r.id), label: indent(r) }));

  const { onSubmit, busy, error, clearError } = useSubmit(
    async () => {
      if (profileIds.length === 0)
        throw new ApiError(400, 'PROFILE_REQUIRED', 'Choose at least one profile.', null);
      const body = {
        name: name.trim(),
        ...(isRoot ? {} : { parentId: Number(parentId) }),
        profileIds: profileIds.map(Number),
      };
      if (role) await api.patch(`roles/${role.id}`, body);
      else await api.post('roles', body);
      return body.name;
    },
    {
      success: (saved) => (role ? `The role ${saved} is saved.` : `The role ${saved} was created.`),
      onDone: () => {
        onSaved();
        onClose();
      },
    },
  );

  return (
    <Modal opened onClose={onClose} title={role ? `Edit the role ${role.name}` : 'New role'}>
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput
            label="Role name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            data-autofocus
          />
          {!isRoot && (
            <Select
              label="Reports to"
              description="Users in the roles above see the records of users in this role"
              required
              allowDeselect={false}
              data={parents}
              value={parentId}
              onChange={setParentId}
              comboboxProps={{ withinPortal: true }}
            />
          )}
          <MultiSelect
            label="Profiles"
            description="What users in this role may do in each module (the most generous profile wins)"
            required
            data={profiles.map((p) => ({ value: String(p.id), label: p.name }))}
            value={profileIds}
            onChange={(ids) => {
              setProfileIds(ids);
              clearError();
            }}
            comboboxProps={{ withinPortal: true }}
          />
          <FormActions error={error} errorTitle="The role was not saved" onCancel={onClose} busy={busy}>
            {role ? 'Save role' : 'Create role'}
          </FormActions>
        </Stack>
      </form>
    </Modal>
  );
}

/** Delete a role without subordinates; its users move to the role chosen here. */
export function DeleteRoleModal({
  roles,
  role,
  onClose,
  onDeleted,
}: {
  roles: Role[];
  role: Role;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const { api } = useSession();
  const [to, setTo] = useState<string | null>(role.parentId === null ? null : String(role.parentId));
  const hasChildren = roles.some((r) => r.parentId === role.id);
  const options = treeOrder(roles)
    .filter((r) => r.id !== role.id)
    .map((r) => ({ value: String(r.id), label: indent(r) }));
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Delete the role ${role.name}?`}
      confirmLabel="Delete role"
      danger
      onConfirm={async () => {
        const query = role.userCount > 0 && to ? `?transferTo=${to}` : '';
        await api.del(`roles/${role.id}${query}`);
        const target = roles.find((r) => String(r.id) === to);
        notifications.show({
          color: 'green',
          title: `The role ${role.name} was deleted`,
          message:
            role.userCount > 0 && target
              ? `${role.userCount} ${role.userCount === 1 ? 'user' : 'users'} moved to ${target.name}.`
              : 'No user was in it.',
        });
        onDeleted();
      }}
    >
      <Stack gap="xs">
        {hasChildren && (
          <Text size="sm" c="red.8">
            Roles report to {role.name}: move or delete them first.
          </Text>
        )}
        {role.userCount > 0 ? (
          <Select
            label="Move its users to"
            description={`${role.userCount} ${role.userCount === 1 ? 'user is' : 'users are'} in this role`}
            required
            allowDeselect={false}
            data={options}
            value={to}
            onChange={setTo}
            comboboxProps={{ withinPortal: true }}
          />
        ) : (
          <Text size="sm">No user is in this role.</Text>
        )}
      </Stack>
    </ConfirmModal>
  );
}
