import { Checkbox, Modal, Select, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { Role, UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { FormActions } from '../components/form-actions';
import { useSession } from '../session/session-context';

/** An administrator changes a user's names, email, role, status and administrator flag. */
export function EditUserModal({
  user,
  opened,
  onClose,
  onChanged,
}: {
  user: UserView;
  opened: boolean;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { api } = useSession();
  const roles = useApi<{ items: Role[] }>(opened ? 'roles' : null);
  const [form, setForm] = useState({
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    roleId: String(user.roleId),
    status: user.status,
    isAdmin: user.isAdmin,
  });

  const { onSubmit, busy, error } = useSubmit(
    async () => {
      const patch: Record<string, unknown> = {};
      if (form.firstName !== user.firstName) patch.firstName = form.firstName;
      if (form.lastName !== user.lastName) patch.lastName = form.lastName;
      if (form.email !== user.email) patch.email = form.email;
      if (Number(form.roleId) !== user.roleId) patch.roleId = Number(form.roleId);
      if (form.status !== user.status) patch.status = form.status;
      if (form.isAdmin !== user.isAdmin) patch.isAdmin = form.isAdmin;
      if (Object.keys(patch).length) await api.patch(`users/${user.id}`, patch);
    },
    {
      success: 'The user is saved.',
      onDone: () => {
        onChanged();
        onClose();
      },
    },
  );

  return (
    <Modal opened={opened} onClose={onClose} title="Edit user details" size="lg">
      <form onSubmit={onSubmit}>
        <Stack>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="First name"
              value={form.firstName}
              onChange={(e) => setForm({ ...form, firstName: e.currentTarget.value })}
              data-autofocus
            />
            <TextInput
              label="Last name"
              required
              value={form.lastName}
              onChange={(e) => setForm({ ...form, lastName: e.currentTarget.value })}
            />
            <TextInput
              label="Email"
              type="email"
              required
              value={form.email}
              onChange={(e) => setForm({ ...form, email: e.currentTarget.value })}
            />
            <Select
              label="Role"
              data={(roles.data?.items ?? [{ id: user.roleId, name: user.roleName ?? 'Current role' }]).map(
                (r) => ({
                  value: String(r.id),
                  label: r.name,
                }),
              )}
              value={form.roleId}
              onChange={(v) => setForm({ ...form, roleId: v ?? form.roleId })}
              allowDeselect={false}
            />
            <Select
              label="Status"
              description="Inactive users cannot sign in; their sessions end"
              data={['Active', 'Inactive']}
              value={form.status}
              onChange={(v) => setForm({ ...form, status: (v as 'Active' | 'Inactive') ?? form.status })}
              allowDeselect={false}
            />
          </SimpleGrid>
          <Checkbox
            label="Administrator (can change every setting and every user)"
            checked={form.isAdmin}
            onChange={(e) => setForm({ ...form, isAdmin: e.currentTarget.checked })}
          />
          <FormActions error={error} errorTitle="The user was not saved" onCancel={onClose} busy={busy}>
            Save
          </FormActions>
        </Stack>
      </form>
    </Modal>
  );
}
