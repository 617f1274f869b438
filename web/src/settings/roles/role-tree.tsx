import { ActionIcon, Badge, Button, Group, Paper, Stack, Text, Tooltip } from '@mantine/core';
import { IconEdit, IconHierarchy2, IconPlus, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import type { Profile, Role } from '../../api/types';
import type { Query } from '../../api/use-api';
import { ErrorAlert } from '../../components/error-alert';
import { SectionLoader } from '../../components/loading-state';
import { DeleteRoleModal, RoleModal } from './role-modals';
import { treeOrder } from './role-order';

type Editing =
  | { kind: 'create'; parent: Role }
  | { kind: 'edit'; role: Role }
  | { kind: 'delete'; role: Role };

/** The role hierarchy as an indented tree, with add-under, edit (rename, move, profiles) and delete. */
export function RoleTree({ roles, profiles }: { roles: Query<{ items: Role[] }>; profiles: Profile[] }) {
  const [editing, setEditing] = useState<Editing | null>(null);
  const all = roles.data?.items ?? [];
  const ordered = treeOrder(all);
  const profileName = (id: number) => profiles.find((p) => p.id === id)?.name ?? `profile ${id}`;
  const close = () => setEditing(null);
  return (
    <>
      <ErrorAlert error={roles.error} title="The roles cannot be shown" onRetry={roles.reload} />
      {roles.loading && !roles.data && <SectionLoader label="Loading roles" />}
      {roles.data && (
        <Paper withBorder p="md" maw={880}>
          <Stack gap={6} role="tree" aria-label="Role hierarchy">
            {ordered.map((r) => (
              <Group
                key={r.id}
                gap="xs"
                pl={r.depth * 24}
                role="treeitem"
                aria-level={r.depth + 1}
                wrap="nowrap"
                justify="space-between"
              >
                <Group gap="xs" wrap="wrap">
                  <IconHierarchy2 size={16} aria-hidden />
                  <Text size="sm" fw={r.depth === 0 ? 600 : 400}>
                    {r.name}
                  </Text>
                  <Badge size="xs" variant="light" color="gray">
                    {r.userCount} {r.userCount === 1 ? 'user' : 'users'}
                  </Badge>
                  <Text size="xs">{r.profileIds.map(profileName).join(', ')}</Text>
                </Group>
                <Group gap={4} wrap="nowrap">
                  <Tooltip label={`Add a role under ${r.name}`}>
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Add a role under ${r.name}`}
                      onClick={() => setEditing({ kind: 'create', parent: r })}
                    >
                      <IconPlus size={16} />
                    </ActionIcon>
                  </Tooltip>
                  <Tooltip label={`Edit ${r.name}`}>
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Edit ${r.name}`}
                      onClick={() => setEditing({ kind: 'edit', role: r })}
                    >
                      <IconEdit size={16} />
                    </ActionIcon>
                  </Tooltip>
                  {r.parentId !== null && (
                    <Tooltip label={`Delete ${r.name}`}>
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${r.name}`}
                        onClick={() => setEditing({ kind: 'delete', role: r })}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Tooltip>
                  )}
                </Group>
              </Group>
            ))}
          </Stack>
          {ordered[0] && (
            <Button
              mt="md"
              size="xs"
              variant="light"
              leftSection={<IconPlus size={14} />}
              onClick={() => setEditing({ kind: 'create', parent: ordered[0]! })}
            >
              Add role
            </Button>
          )}
        </Paper>
      )}
      {editing?.kind === 'create' && (
        <RoleModal
          roles={all}
          profiles={profiles}
          parent={editing.parent}
          onClose={close}
          onSaved={roles.reload}
        />
      )}
      {editing?.kind === 'edit' && (
        <RoleModal
          roles={all}
          profiles={profiles}
          role={editing.role}
          onClose={close}
          onSaved={roles.reload}
        />
      )}
      {editing?.kind === 'delete' && (
        <DeleteRoleModal roles={all} role={editing.role} onClose={close} onDeleted={roles.reload} />
      )}
    </>
  );
}
