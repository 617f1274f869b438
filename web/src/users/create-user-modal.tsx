import {
  Button,
  Checkbox,
  Group,
  Modal,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  TextInput,
} from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import type { ApiError } from '../api/api-client';
import type { Role, UserView } from '../api/types';
import { asApiError, useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';

const EMPTY = { username: '', firstName: '', lastName: '', email: '', password: '' };

export function CreateUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const roles = useApi<{ items: Role[] }>(opened ? 'roles' : null);
  const [form, setForm] = useState(EMPTY);
  const [roleId, setRoleId] = useState<string | null>(null);
  const [isAdmin, setIsAdmin] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const field = (k: keyof typeof EMPTY) => ({
    value: form[k],
    onChange: (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value }),
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { ...form, isAdmin, ...(roleId ? { roleId: Number(roleId) } : {}) };
      const user = await api.post<UserView>('users', body);
      setForm(EMPTY);
      onClose();
      navigate(`/settings/users/${user.id}`);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title="Add a user" size="lg">
      <form onSubmit={submit}>
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
          <ErrorAlert error={error} title="The user was not created" />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Add user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
