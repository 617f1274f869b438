import { Alert, Anchor, Button, PasswordInput, Stack, Text } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';
import { PublicCard } from './public-card';

/** The page behind the emailed reset link: choose a new password; every session of the account ends. */
export function ResetPasswordPage() {
  const { api } = useSession();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const mismatch = repeat.length > 0 && password !== repeat;
  const {
    submit: reset,
    busy,
    error,
  } = useSubmit(() => api.post('auth/reset-password', { token, newPassword: password }), {
    onDone: () => setDone(true),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mismatch) void reset();
  };

  return (
    <PublicCard title="Choose a new password">
      {done ? (
        <>
          <Alert color="green" title="Password changed" role="status">
            Sign in with your new password. Every other session of your account has ended.
          </Alert>
          <Button component={Link} to="/login">
            Sign in
          </Button>
        </>
      ) : (
        <form onSubmit={submit}>
          <Stack>
            {!token && <Text>This link is incomplete. Open the link from the email again.</Text>}
            <PasswordInput
              label="New password"
              description="At least 12 characters"
              autoComplete="new-password"
              required
              autoFocus
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            <PasswordInput
              label="Repeat the new password"
              autoComplete="new-password"
              required
              value={repeat}
              error={mismatch ? 'The two passwords are different.' : undefined}
              onChange={(e) => setRepeat(e.currentTarget.value)}
            />
            <ErrorAlert error={error} title="The password was not changed" />
            <Button type="submit" loading={busy} disabled={!token || !password || mismatch}>
              Change password
            </Button>
            <Anchor component={Link} to="/login" size="sm" ta="center">
              Back to sign-in
            </Anchor>
          </Stack>
        </form>
      )}
    </PublicCard>
  );
}
