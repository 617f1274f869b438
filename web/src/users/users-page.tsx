import {
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  Select,
  Switch,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconSearch, IconUserPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import type { Page, UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { fullName } from '../format';
import { useSession } from '../session/session-context';
import { CreateUserModal } from './create-user-modal';
import { RestoreUserModal } from './user-lifecycle-modals';

const PAGE_SIZE = 50;

export function UsersPage() {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [showDeleted, setShowDeleted] = useState(false);
  const [restoring, setRestoring] = useState<UserView | null>(null);
  const { can } = useSession();
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  if (debounced) params.set('search', debounced);
  if (status) params.set('status', status);
  // everyone, the deleted among them marked, so the switch widens the list instead of swapping it
  if (showDeleted) params.set('deleted', 'all');
  const users = useApi<Page<UserView>>(`users?${params}`);
  const total = users.data?.total ?? 0;

  return (
    <>
      <PageHeader
        title="Users"
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'User Management' }, { label: 'Users' }]}
        actions={
          <Button leftSection={<IconUserPlus size={16} />} onClick={() => setCreating(true)}>
            Add user
          </Button>
        }
      />
      <Group mb="md" align="flex-end" wrap="wrap">
        <TextInput
          label="Search users"
          placeholder="Name, username or email"
          leftSection={<IconSearch size={16} aria-hidden />}
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setOffset(0);
          }}
          w={320}
        />
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={['Active', 'Inactive']}
          value={status}
          onChange={(v) => {
            setStatus(v);
            setOffset(0);
          }}
          w={180}
        />
        {can('restoreUser') && (
          <Switch
            label="Show deleted users"
            checked={showDeleted}
            onChange={(e) => {
              setShowDeleted(e.currentTarget.checked);
              setOffset(0);
            }}
            mb={8}
          />
        )}
      </Group>
      <ErrorAlert error={users.error} title="The users cannot be listed" onRetry={users.reload} />
      {users.loading && !users.data && <SectionLoader label="Loading users" />}
      {users.data && (
        <Paper withBorder>
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover verticalSpacing="sm" aria-label="Users">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Username</Table.Th>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Status</Table.Th>
                  {showDeleted && (
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  )}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {users.data.items.map((u) => (
                  <Table.Tr key={u.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/settings/users/${u.id}`} fw={500}>
                        {fullName(u)}
                      </Anchor>
                      {u.isOwner && (
                        <Badge
                          ml="xs"
                          size="xs"
                          color="grape"
                          variant="light"
                          title="Account owner: only they can change this account"
                          data-testid="owner-badge"
                        >
                          Owner
                        </Badge>
                      )}
                      {u.isAdmin && (
                        <Badge ml="xs" size="xs" variant="light">
                          Admin
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{u.username}</Table.Td>
                    <Table.Td>
                      {u.email}
                      {u.emailVerified === false && (
                        <Badge ml="xs" size="xs" color="yellow" variant="light">
                          Unverified
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{u.roleName ?? '—'}</Table.Td>
                    <Table.Td>
                      {u.deletedAt ? (
                        <Badge color="red" variant="light">
                          Deleted
                        </Badge>
                      ) : (
                        <Badge color={u.status === 'Active' ? 'green' : 'gray'} variant="light">
                          {u.status}
                        </Badge>
                      )}
                    </Table.Td>
                    {showDeleted && (
                      <Table.Td ta="right">
                        {u.deletedAt && (
                          <Button
                            size="xs"
                            variant="light"
                            onClick={() => setRestoring(u)}
                            aria-label={`Restore ${fullName(u)}`}
                          >
                            Restore
                          </Button>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {users.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No users match your search.
            </Text>
          )}
        </Paper>
      )}
      {total > PAGE_SIZE && (
        <Group justify="space-between" mt="sm">
          <Text size="sm" c="dimmed">
            {offset + 1}–{Math.min(offset + PAGE_SIZE, total)} of {total}
          </Text>
          <Group gap="xs">
            <Button variant="default" disabled={offset === 0} onClick={() => setOffset(offset - PAGE_SIZE)}>
              Previous
            </Button>
            <Button
              variant="default"
              disabled={offset + PAGE_SIZE >= total}
              onClick={() => setOffset(offset + PAGE_SIZE)}
            >
              Next
            </Button>
          </Group>
        </Group>
      )}
      <CreateUserModal opened={creating} onClose={() => setCreating(false)} />
      {restoring && (
        <RestoreUserModal
          user={restoring}
          opened
          onClose={() => setRestoring(null)}
          onChanged={users.reload}
        />
      )}
    </>
  );
}
