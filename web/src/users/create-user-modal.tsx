import { Checkbox, Modal, PasswordInput, Select, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { Role, UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { FormActions } from '../components/form-actions';
import { useSession } from '../session/session-context';

const EMPTY = { username: '', firstName: '', lastName: '', email: '', password: '' };

export function CreateUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const roles = useApi<{ items: Role[] }>(opened ? 'roles' : null);
  const [form, setForm] = useState(EMPTY);
  const [roleId, setRoleId] = useState<string | null>(null);
  const [isAdmin, setIsAdmin] = useState(false);
  const field = (k: keyof typeof EMPTY) => ({
    value: form[k],
    onChange: (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value }),
  });

  const { onSubmit, busy, error } = useSubmit(
    () => api.post<UserView>('users', { ...form, isAdmin, ...(roleId ? { roleId: Number(roleId) } : {}) }),
    {
      onDone: (user) => {
        setForm(EMPTY);
        onClose();
        navigate(`/settings/users/${user.id}`);
      },
    },
  );

  return (
    <Modal opened={opened} onClose={onClose} title="Add a user" size="lg">
      <form onSubmit={onSubmit}>
        <Stack>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Username" required autoComplete="off" data-autofocus {...field('username')} />
            <TextInput label="Email" type="email" required {...field('email')} />
            <TextInput label="First name" {...field('firstName')} />
            <TextInput label="Last name" required {...field('lastName')} />
            <PasswordInput
              label="Password"
              description="At least 12 characters"
              required
              autoComplete="new-password"
              {...field('password')}
            />
            <Select
              label="Role"
              placeholder="Default role"
              clearable
              data={(roles.data?.items ?? []).map((r) => ({ value: String(r.id), label: r.name }))}
              value={roleId}
              onChange={setRoleId}
            />
          </SimpleGrid>
          <Checkbox
            label="Administrator (can change every setting and every user)"
            checked={isAdmin}
            onChange={(e) => setIsAdmin(e.currentTarget.checked)}
          />
          <FormActions error={error} errorTitle="The user was not created" onCancel={onClose} busy={busy}>
            Add user
          </FormActions>
        </Stack>
      </form>
    </Modal>
  );
}
