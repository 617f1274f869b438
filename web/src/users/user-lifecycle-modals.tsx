import { Select, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError } from '../api/api-client';
import type { Page, UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { ConfirmModal } from '../components/confirm-modal';
import { fullName } from '../format';
import { useSession } from '../session/session-context';

interface Props {
  user: UserView;
  opened: boolean;
  onClose: () => void;
}

export function ImpersonateModal({ user, opened, onClose }: Props) {
  const { api, refresh } = useSession();
  const navigate = useNavigate();
  return (
    <ConfirmModal
      opened={opened}
      onClose={onClose}
      title={`Log in as ${fullName(user)}?`}
      confirmLabel={`Log in as ${user.username}`}
      onConfirm={async () => {
        await api.post(`users/${user.id}/impersonate`);
        await refresh();
        navigate('/settings');
      }}
    >
      <Stack gap="xs">
        <Text size="sm">
          You will see the CRM as {fullName(user)} sees it, for at most one hour. A banner reminds you, and
          you can stop at any time.
        </Text>
        <Text size="sm">
          Everything you do is recorded in the audit log under both names. Their access key and password
          cannot be seen or changed meanwhile.
        </Text>
      </Stack>
    </ConfirmModal>
  );
}

export function DeleteUserModal({ user, opened, onClose }: Props) {
  const { api } = useSession();
  const navigate = useNavigate();
  const [to, setTo] = useState<string | null>(null);
  const candidates = useApi<Page<UserView>>(opened ? 'users?status=Active&limit=200' : null);
  const options = (candidates.data?.items ?? [])
    .filter((u) => u.id !== user.id)
    .map((u) => ({ value: String(u.id), label: `${fullName(u)} (${u.username})` }));
  return (
    <ConfirmModal
      opened={opened}
      onClose={onClose}
      title={`Delete ${fullName(user)}?`}
      confirmLabel="Delete user"
      danger
      onConfirm={async () => {
        if (!to)
          throw new ApiError(400, 'TRANSFER_TARGET_REQUIRED', 'Choose who receives the records.', null);
        const out = await api.del<{ recordsTransferred?: number } | undefined>(
          `users/${user.id}?transferTo=${to}`,
        );
        const receiver = options.find((o) => o.value === to)?.label ?? 'the chosen user';
        const count = out?.recordsTransferred;
        notifications.show({
          color: 'green',
          title: `${fullName(user)} was deleted`,
          message:
            count === undefined
              ? `Their records now belong to ${receiver}.`
              : `${count} ${count === 1 ? 'record' : 'records'} now belong to ${receiver}.`,
        });
        navigate('/settings/users');
      }}
    >
      <Stack gap="xs">
        <Text size="sm">
          {fullName(user)} can no longer sign in, and their access key stops working at once. You can restore
          the user later; the records stay with the new owner.
        </Text>
        <Select
          label="Transfer their records to"
          description="An active user who becomes the owner of everything this user owns"
          placeholder="Choose a user"
          searchable
          required
          data={options}
          value={to}
          onChange={setTo}
          comboboxProps={{ withinPortal: true }}
        />
      </Stack>
    </ConfirmModal>
  );
}

export function RestoreUserModal({ user, opened, onClose, onChanged }: Props & { onChanged: () => void }) {
  const { api } = useSession();
  return (
    <ConfirmModal
      opened={opened}
      onClose={onClose}
      title={`Restore ${fullName(user)}?`}
      confirmLabel="Restore user"
      onConfirm={async () => {
        await api.post(`users/${user.id}/restore`);
        onChanged();
      }}
    >
      The user can sign in again. Records that were transferred when they were deleted stay with their new
      owner.
    </ConfirmModal>
  );
}
