import { Badge, Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { UserView } from '../api/types';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';
import { SendVerificationButton } from '../users/user-detail-page';

/**
 * My email address: its verification state, a link to verify it, and (for administrators, who may change
 * any address) a new address. Other users ask an administrator: the address receives password resets.
 */
export function EmailPanel({ user, onSaved }: { user: UserView; onSaved: () => void }) {
  const { api, can } = useSession();
  const [email, setEmail] = useState(user.email);
  const placeholder = /@localhost$/i.test(user.email);

  const { onSubmit, busy, error, clearError } = useSubmit(
    () => api.patch<{ warnings?: string[] }>('users/me', { email: email.trim() }),
    {
      success: (out) => ({
        title: 'Email address changed',
        message: out.warnings?.join(' ') || `Your address is now ${email.trim()}.`,
      }),
      onDone: onSaved,
    },
  );

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="email-title">
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4" id="email-title">
            Email address
          </Title>
          {user.emailVerified === false && (
            <Badge color="yellow" variant="light">
              Not verified
            </Badge>
          )}
          {user.emailVerified === true && (
            <Badge color="green" variant="light">
              Verified
            </Badge>
          )}
        </Group>
        {placeholder && (
          <Text size="sm">
            {user.email} is the placeholder the installation started with: no mail can reach it. Enter your
            real address so password-reset links and notices reach you.
          </Text>
        )}
        {user.isAdmin ? (
          <form onSubmit={onSubmit}>
            <Group align="flex-end" gap="xs">
              <TextInput
                label="Your email address"
                type="email"
                required
                value={email}
                onChange={(e) => {
                  setEmail(e.currentTarget.value);
                  clearError();
                }}
                w={340}
              />
              <Button type="submit" loading={busy} disabled={email.trim() === user.email}>
                Change email
              </Button>
            </Group>
          </form>
        ) : (
          <Text size="sm">
            {user.email}. Ask an administrator to change it: password-reset links are sent there.
          </Text>
        )}
        <ErrorAlert error={error} title="The address was not changed" />
        {user.emailVerified === false && can('verificationEmail') && (
          <div>
            <Text size="sm">Verify the address by opening the link we email to it.</Text>
            <SendVerificationButton user={user} self />
          </div>
        )}
      </Stack>
    </Card>
  );
}
