import { Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconAddressBook } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';

/** Only same-site paths are followed after sign-in, so a crafted link cannot send the user elsewhere. */
function safeNext(next: string | null): string {
  return next && /^\/(?!\/)/.test(next) ? next : '/';
}

export function LoginPage() {
  const { me, signIn, can } = useSession();
  const [params] = useSearchParams();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // on success the session has a user and this page gives way, so it stays busy
  const { onSubmit: submit, busy, error } = useSubmit(() => signIn(username, password), { keepBusy: true });

  if (me) return <Navigate to={safeNext(params.get('next'))} replace />;

  return (
    <Center mih="100vh" bg="gray.0" px="md">
      <Paper component="main" withBorder shadow="sm" p="xl" w="100%" maw={400}>
        <form onSubmit={submit} noValidate>
          <Stack>
            <Stack gap={4} align="center">
              <IconAddressBook aria-hidden size={36} color="var(--mantine-color-indigo-6)" />
              <Title order={1} size="h3">
                Sign in to Rapport
              </Title>
            </Stack>
            <ErrorAlert error={error} title="Could not sign in" />
            <TextInput
              label="Username"
              autoComplete="username"
              required
              value={username}
              onChange={(e) => setUsername(e.currentTarget.value)}
              data-autofocus
              autoFocus
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            <Button type="submit" loading={busy} disabled={!username || !password} fullWidth>
              Sign in
            </Button>
            {can('forgotPassword') ? (
              <Anchor component={Link} to="/forgot-password" size="sm" ta="center">
                Forgot your password?
              </Anchor>
            ) : (
              <Text size="xs" c="dimmed" ta="center">
                Forgot your password? Ask an administrator to set a new one.
              </Text>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
