import { Alert, Anchor, Button, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';
import { PublicCard } from './public-card';

/** Ask for a reset link; the answer is the same whether or not the account exists. */
export function ForgotPasswordPage() {
  const { api } = useSession();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const {
    onSubmit: submit,
    busy,
    error,
  } = useSubmit(() => api.post<{ message: string }>('auth/forgot-password', { username, email }), {
    onDone: (res) => setMessage(res.message),
  });

  return (
    <PublicCard title="Forgot your password?">
      {message ? (
        <Alert color="green" role="status">
          {message}
        </Alert>
      ) : (
        <form onSubmit={submit}>
          <Stack>
            <Text size="sm" c="dimmed">
              Enter your username and the email address of your account. We send a link to choose a new
              password; it works once, for one hour.
            </Text>
            <TextInput
              label="Username"
              autoComplete="username"
              required
              autoFocus
              value={username}
              onChange={(e) => setUsername(e.currentTarget.value)}
            />
            <TextInput
              label="Email"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
            />
            <ErrorAlert error={error} title="The link was not sent" />
            <Button type="submit" loading={busy} disabled={!username || !email}>
              Send me a link
            </Button>
          </Stack>
        </form>
      )}
      <Anchor component={Link} to="/login" size="sm" ta="center">
        Back to sign-in
      </Anchor>
    </PublicCard>
  );
}
