import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useParams } from 'react-router';
import { AccessKeyPanel } from '../access-key/access-key-panel';
import { RegenerateKeyModal } from '../access-key/regenerate-key-modal';
import { useAccessKey } from '../access-key/use-access-key';
import type { UserView } from '../api/types';
import { useApi } from '../api/use-api';
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
  const showKey = can('accessKeys') && !me.impersonatedBy;
  const key = useAccessKey(Number(id) || 0, showKey && Boolean(user.data));
  const [action, setAction] = useState<UserAction | null>(null);
  const u = user.data;
  const name = u ? fullName(u) : 'User';

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
              <Detail
                label="Email"
                value={u.emailVerified === false ? `${u.email} (not verified yet)` : u.email}
              />
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
