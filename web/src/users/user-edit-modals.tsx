import { Alert, Modal, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { type ReactNode, useState } from 'react';
import type { UserView } from '../api/types';
import { useSubmit } from '../api/use-submit';
import { FormActions } from '../components/form-actions';
import { fullName } from '../format';
import { useSession } from '../session/session-context';

/** A one-field form in a dialog: submit runs `save`, failures stay visible in the dialog. */
function FormModal({
  opened,
  onClose,
  title,
  submitLabel,
  save,
  children,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  submitLabel: string;
  save: () => Promise<void>;
  children: ReactNode;
}) {
  const { onSubmit, busy, error, clearError } = useSubmit(save, { onDone: () => close() });
  const close = () => {
    clearError();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <form onSubmit={onSubmit}>
        <Stack>
          {children}
          <FormActions error={error} onCancel={close} busy={busy}>
            {submitLabel}
          </FormActions>
        </Stack>
      </form>
    </Modal>
  );
}

export function ChangePasswordModal({
  user,
  opened,
  onClose,
}: {
  user: UserView;
  opened: boolean;
  onClose: () => void;
}) {
  const { api } = useSession();
  const [password, setPassword] = useState('');
  return (
    <FormModal
      opened={opened}
      onClose={() => {
        setPassword('');
        onClose();
      }}
      title={`Change the password of ${fullName(user)}`}
      submitLabel="Change password"
      save={async () => {
        await api.post(`users/${user.id}/password`, { newPassword: password });
        setPassword('');
        notifications.show({
          color: 'green',
          title: 'Password changed',
          message: `${fullName(user)} has been signed out everywhere and must use the new password.`,
        });
      }}
    >
      <Text size="sm">Their current password is not needed. All of their sessions end.</Text>
      <PasswordInput
        label="New password"
        description="At least 12 characters"
        autoComplete="new-password"
        required
        data-autofocus
        value={password}
        onChange={(e) => setPassword(e.currentTarget.value)}
      />
    </FormModal>
  );
}

export function ChangeUsernameModal({
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
  const [username, setUsername] = useState(user.username);
  return (
    <FormModal
      opened={opened}
      onClose={onClose}
      title="Change username"
      submitLabel="Change username"
      save={async () => {
        await api.patch(`users/${user.id}`, { username: username.trim() });
        notifications.show({ color: 'green', message: `The username is now ${username.trim()}.` });
        onChanged();
      }}
    >
      <Alert color="yellow" variant="light">
        Integrations that use the Vtiger web services sign in with the username. Update them after this
        change.
      </Alert>
      <TextInput
        label="New username"
        description="Letters, digits and . _ @ -"
        required
        data-autofocus
        value={username}
        onChange={(e) => setUsername(e.currentTarget.value)}
      />
    </FormModal>
  );
}
