import { Alert, Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconMailForward, IconRestore, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useParams } from 'react-router';
import { AccessKeyPanel } from '../access-key/access-key-panel';
import { RegenerateKeyModal } from '../access-key/regenerate-key-modal';
import { useAccessKey } from '../access-key/use-access-key';
import type { UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime, fullName } from '../format';
import { useMe, useSession } from '../session/session-context';
import { LANGUAGES } from '../settings/profile-form';
import { type UserAction, UserActionDialogs, UserMoreMenu } from './user-more-menu';

export function UserDetailPage() {
  const { id } = useParams();
  const me = useMe();
  const { can } = useSession();
  const user = useApi<UserView>(`users/${Number(id) || 0}`);
  const u = user.data;
  const deleted = Boolean(u?.deletedAt);
  // a deleted user has no key to show: it was destroyed with the deletion
  const showKey = can('accessKeys') && !me.impersonatedBy && !deleted;
  const key = useAccessKey(Number(id) || 0, showKey && Boolean(u));
  const [action, setAction] = useState<UserAction | null>(null);
  const name = u ? fullName(u) : 'User';
  const canSendVerification =
    can('verificationEmail') && !deleted && (me.user.isAdmin || me.user.id === u?.id);

  return (
    <>
      <PageHeader
        title={name}
        crumbs={[
          { label: 'Settings', to: '/settings' },
          { label: 'Users', to: '/settings/users' },
          { label: u?.username ?? String(id) },
        ]}
        actions={u && <UserMoreMenu user={u} onAction={setAction} canChangeKey={showKey} />}
      />
      <ErrorAlert error={user.error} title="This user cannot be shown" onRetry={user.reload} />
      {user.loading && !u && <SectionLoader label="Loading the user" />}
      {u && (
        <Stack maw={880}>
          {u.deletedAt && (
            <Alert
              color="red"
              variant="light"
              icon={<IconTrash />}
              title={`${name} was deleted on ${formatTime(u.deletedAt, me.user)}`}
              data-testid="deleted-user-banner"
            >
              <Text size="sm">
                They cannot sign in and their access key is gone; their records belong to the user who
                received them. Restore them to let them sign in again, or delete them permanently to free the
                username.
              </Text>
              <Group gap="xs" mt="sm">
                {can('restoreUser') && (
                  <Button
                    size="xs"
                    leftSection={<IconRestore size={14} />}
                    onClick={() => setAction('restore')}
                  >
                    Restore
                  </Button>
                )}
                {can('deleteUser') && (
                  <Button
                    size="xs"
                    color="red"
                    variant="outline"
                    leftSection={<IconTrash size={14} />}
                    onClick={() => setAction('purge')}
                  >
                    Delete permanently
                  </Button>
                )}
              </Group>
            </Alert>
          )}
          <Card withBorder padding="lg" component="section" aria-labelledby="user-details-title">
            <Group justify="space-between" mb="sm">
              <Title order={2} size="h4" id="user-details-title">
                User details
              </Title>
              <Group gap="xs">
                {u.deletedAt && <Badge color="red">Deleted</Badge>}
                <Badge color={u.status === 'Active' ? 'green' : 'gray'} variant="light">
                  {u.status}
                </Badge>
                {u.isOwner && (
                  <Badge color="grape" variant="light" title="Only the owner can change this account">
                    Account owner
                  </Badge>
                )}
                {u.isAdmin && <Badge variant="light">Administrator</Badge>}
              </Group>
            </Group>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <Detail label="Username" value={u.username} />
              <div>
                <Text size="xs" c="dimmed">
                  Email
                </Text>
                <Group gap="xs">
                  <Text size="sm">{u.email}</Text>
                  {u.emailVerified === false && (
                    <Badge size="sm" color="yellow" variant="light">
                      Not verified
                    </Badge>
                  )}
                  {u.emailVerified === true && (
                    <Badge size="sm" color="green" variant="light">
                      Verified
                    </Badge>
                  )}
                </Group>
                {u.emailVerified === false && canSendVerification && (
                  <SendVerificationButton user={u} self={u.id === me.user.id} />
                )}
              </div>
              <Detail label="Role" value={u.roleName ?? '—'} />
              <Detail label="Time zone" value={u.timeZone} />
              <Detail
                label="Language"
                value={LANGUAGES.find((l) => l.value === u.language)?.label ?? u.language}
              />
              <Detail label="Created" value={formatTime(u.createdAt, me.user)} />
            </SimpleGrid>
          </Card>
          {showKey && <AccessKeyPanel state={key} whose={name} timeZone={me.user} />}
        </Stack>
      )}
      {u && (
        <>
          <UserActionDialogs
            user={u}
            action={action}
            onClose={() => setAction(null)}
            onChanged={user.reload}
          />
          <RegenerateKeyModal
            state={key}
            opened={action === 'change-key'}
            onClose={() => setAction(null)}
            whose={name}
          />
        </>
      )}
    </>
  );
}

/** Sends (or sends again) the verification link; the server limits how often, and says so. */
export function SendVerificationButton({ user, self }: { user: UserView; self: boolean }) {
  const { api } = useSession();
  const [sent, setSent] = useState(false);
  const {
    submit: send,
    busy,
    error,
  } = useSubmit(
    async () => {
      await api.post(`users/${self ? 'me' : user.id}/verification-email`);
      setSent(true);
    },
    {
      success: {
        title: 'Verification email sent',
        message: `A link to verify ${user.email} is on its way; it works for 24 hours and replaces any earlier link.`,
      },
    },
  );
  return (
    <Stack gap={4} mt={4} align="flex-start">
      <Button
        size="compact-xs"
        variant="light"
        loading={busy}
        leftSection={<IconMailForward size={14} />}
        onClick={() => void send()}
      >
        {sent ? 'Resend verification email' : 'Send verification email'}
      </Button>
      <ErrorAlert error={error} title="The email was not sent" />
    </Stack>
  );
}

function Detail({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm">{value}</Text>
    </div>
  );
}
