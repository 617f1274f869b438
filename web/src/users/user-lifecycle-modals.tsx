import { Select, Stack, Text, Textarea, TextInput } from '@mantine/core';
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
  const [needsConsent, setNeedsConsent] = useState(false);
  const [reason, setReason] = useState('');
  const close = () => {
    setNeedsConsent(false);
    onClose();
  };
  if (needsConsent) {
    return (
      <ConfirmModal
        opened={opened}
        onClose={close}
        title={`Ask ${fullName(user)} for consent`}
        confirmLabel="Send request"
        onConfirm={async () => {
          if (!reason.trim())
            throw new ApiError(400, 'REASON_REQUIRED', 'Say why you need to log in as them.', null);
          await api.post(`users/${user.id}/impersonation-requests`, { reason: reason.trim() });
          notifications.show({
            color: 'green',
            title: 'Request sent',
            message: `When ${fullName(user)} approves it under My Preferences, you can log in as them within one hour.`,
          });
          setReason('');
        }}
      >
        <Stack gap="xs">
          <Text size="sm">
            This CRM asks users to agree before an administrator logs in as them. {fullName(user)} sees your
            request under My Preferences.
          </Text>
          <Textarea
            label="Why do you need to log in as them?"
            required
            autosize
            minRows={2}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
          />
        </Stack>
      </ConfirmModal>
    );
  }
  return (
    <ConfirmModal
      opened={opened}
      onClose={close}
      title={`Log in as ${fullName(user)}?`}
      confirmLabel={`Log in as ${user.username}`}
      onConfirm={async () => {
        try {
          await api.post(`users/${user.id}/impersonate`);
        } catch (err) {
          if (err instanceof ApiError && err.code === 'CONSENT_REQUIRED') {
            setNeedsConsent(true);
            return false;
          }
          throw err;
        }
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
      confirmDisabled={!to}
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
        notifications.show({
          color: 'green',
          title: `${fullName(user)} was restored`,
          message:
            'They can sign in again. They have no access key and API access is off until you turn it on on their page.',
        });
        onChanged();
      }}
    >
      <Stack gap="xs">
        <Text size="sm">
          The user can sign in again. Records that were transferred when they were deleted stay with their new
          owner.
        </Text>
        <Text size="sm">
          Their access key was destroyed when they were deleted: API access stays off until you turn it on,
          which creates a new key.
        </Text>
      </Stack>
    </ConfirmModal>
  );
}

/** Vtiger's second step: a deleted user goes for good. Typing the username guards the irreversible. */
export function PurgeUserModal({ user, opened, onClose }: Props) {
  const { api } = useSession();
  const navigate = useNavigate();
  const [typed, setTyped] = useState('');
  const close = () => {
    setTyped('');
    onClose();
  };
  return (
    <ConfirmModal
      opened={opened}
      onClose={close}
      title={`Delete ${fullName(user)} permanently?`}
      confirmLabel="Delete permanently"
      danger
      confirmDisabled={typed.trim().toLowerCase() !== user.username.toLowerCase()}
      onConfirm={async () => {
        const out = await api.del<{ transferredTo?: { username: string } } | undefined>(
          `users/${user.id}?permanent=true`,
        );
        notifications.show({
          color: 'green',
          title: `${fullName(user)} was deleted permanently`,
          message: out?.transferredTo
            ? `What still named them now names ${out.transferredTo.username}. The username ${user.username} is free again.`
            : `The username ${user.username} is free again.`,
        });
        setTyped('');
        navigate('/settings/users');
      }}
    >
      <Stack gap="xs">
        <Text size="sm">
          This cannot be undone. The user cannot be restored afterwards; records that still mention them as
          creator move to the user who received their records.
        </Text>
        <TextInput
          label={`Type the username ${user.username} to confirm`}
          value={typed}
          onChange={(e) => setTyped(e.currentTarget.value)}
          autoComplete="off"
        />
      </Stack>
    </ConfirmModal>
  );
}
