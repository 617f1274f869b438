import { Button, Group, Paper, Text } from '@mantine/core';
import { IconUserShield } from '@tabler/icons-react';
import { useNavigate } from 'react-router';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { fullName } from '../format';
import { useMe, useSession } from '../session/session-context';

/** Shown on every page while an administrator is logged in as someone else. */
export function ImpersonationBanner() {
  const me = useMe();
  const { api, refresh } = useSession();
  const navigate = useNavigate();
  const {
    submit: stop,
    busy,
    error,
  } = useSubmit(async () => {
    await api.post('auth/stop-impersonating');
    await refresh();
    navigate(`/settings/users/${me.user.id}`);
  });
  const admin = me.impersonatedBy;
  if (!admin) return null;

  return (
    <Paper
      radius={0}
      px="md"
      py="xs"
      bg="orange.1"
      role="region"
      aria-label="Logged in as another user"
      data-testid="impersonation-banner"
    >
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs" wrap="nowrap">
          <IconUserShield aria-hidden size={20} />
          <Text size="sm">
            You (<strong>{fullName(admin)}</strong>) are logged in as <strong>{fullName(me.user)}</strong> (
            {me.user.username}). Everything you do is recorded under both names.
          </Text>
        </Group>
        <Button size="xs" color="orange" onClick={() => void stop()} loading={busy}>
          Stop logging in as {fullName(me.user)}
        </Button>
      </Group>
      <ErrorAlert error={error} />
    </Paper>
  );
}
