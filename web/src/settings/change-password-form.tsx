import { Button, Card, Group, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';

/** Change my own password: the current one is required; other sessions end. */
export function ChangePasswordForm() {
  const { api } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const mismatch = repeat.length > 0 && next !== repeat;

  const {
    submit: save,
    busy,
    error,
  } = useSubmit(
    async () => {
      await api.post('users/me/password', { currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setRepeat('');
    },
    { success: { title: 'Password changed', message: 'Your other sessions have been signed out.' } },
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mismatch) void save();
  };

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="password-title">
      <form onSubmit={submit}>
        <Stack>
          <div>
            <Title order={2} size="h4" id="password-title">
              Change password
            </Title>
            <Text size="sm" c="dimmed">
              At least 12 characters. A long phrase is easier to remember and harder to guess.
            </Text>
          </div>
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
          />
          <PasswordInput
            label="New password"
            autoComplete="new-password"
            required
            value={next}
            onChange={(e) => setNext(e.currentTarget.value)}
          />
          <PasswordInput
            label="Repeat the new password"
            autoComplete="new-password"
            required
            value={repeat}
            error={mismatch ? 'The two new passwords are different.' : undefined}
            onChange={(e) => setRepeat(e.currentTarget.value)}
          />
          <ErrorAlert error={error} title="Your password was not changed" />
          <Group justify="flex-end">
            <Button type="submit" loading={busy} disabled={!current || !next || mismatch}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
