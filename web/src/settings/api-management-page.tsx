import { Anchor, Button, Paper, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconKeyOff } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import type { ApiAccessUser } from '../api/types';
import { useApi } from '../api/use-api';
import { ConfirmModal } from '../components/confirm-modal';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime, fullName } from '../format';
import { useMe, useSession } from '../session/session-context';
import { UserWebhooksPanel } from './user-webhooks-panel';

export function ApiManagementPage() {
  const me = useMe();
  const { api } = useSession();
  const { userId } = useParams();
  const list = useApi<{ items: ApiAccessUser[] }>('api-access/users');
  const [clearing, setClearing] = useState<ApiAccessUser | null>(null);
  const selected = list.data?.items.find((i) => String(i.user.id) === userId);
  const tz = me.user;

  return (
    <>
      <PageHeader
        title="API Management"
        description="Users who have API access turned on. Clearing a key destroys it and turns that user's API access off until they regenerate their access key."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'API' }, { label: 'API Management' }]}
        actions={
          <Button component="a" href="/api/docs" target="_blank" variant="default">
            API documentation
          </Button>
        }
      />
      <ErrorAlert error={list.error} title="The API users cannot be listed" onRetry={list.reload} />
      {list.loading && !list.data && <SectionLoader label="Loading API users" />}
      {list.data && (
        <Paper withBorder>
          <Table.ScrollContainer minWidth={720}>
            <Table verticalSpacing="sm" highlightOnHover aria-label="Users with API access">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>User</Table.Th>
                  <Table.Th>Key created</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>Requests (24 h)</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((i) => (
                  <Table.Tr key={i.user.id} bg={String(i.user.id) === userId ? 'indigo.0' : undefined}>
                    <Table.Td>
                      <Anchor component={Link} to={`/settings/api-management/${i.user.id}`} fw={500}>
                        {fullName(i.user)}
                      </Anchor>
                      <Text size="xs" c="dimmed">
                        {i.user.username}
                      </Text>
                    </Table.Td>
                    <Table.Td>{formatTime(i.keyCreatedAt, tz)}</Table.Td>
                    <Table.Td>
                      {formatTime(i.lastUsedAt, tz)}
                      {i.lastUsedIp && (
                        <Text size="xs" c="dimmed">
                          from {i.lastUsedIp}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{i.requestsLast24h ?? '—'}</Table.Td>
                    <Table.Td ta="right">
                      <Button
                        size="xs"
                        variant="light"
                        color="red"
                        leftSection={<IconKeyOff size={14} />}
                        onClick={() => setClearing(i)}
                        aria-label={`Clear API Key of ${fullName(i.user)}`}
                      >
                        Clear API Key
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {list.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No user has API access turned on.
            </Text>
          )}
        </Paper>
      )}
      {userId && (
        <UserWebhooksPanel userId={Number(userId)} name={selected ? fullName(selected.user) : undefined} />
      )}
      <ConfirmModal
        opened={clearing !== null}
        onClose={() => setClearing(null)}
        title={`Clear the API key of ${clearing ? fullName(clearing.user) : ''}?`}
        confirmLabel="Clear API Key"
        danger
        onConfirm={async () => {
          if (!clearing) return;
          await api.del(`users/${clearing.user.id}/access-key`);
          notifications.show({
            color: 'green',
            title: 'API key cleared',
            message: `${fullName(clearing.user)} has no API access until they regenerate their access key.`,
          });
          list.reload();
        }}
      >
        The key is destroyed and API access is turned off. Every integration using it fails at once, until the
        user turns API access on and regenerates their access key.
      </ConfirmModal>
    </>
  );
}
