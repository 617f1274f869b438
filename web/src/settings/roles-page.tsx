import { Badge, Group, Paper, Stack, Text } from '@mantine/core';
import { IconHierarchy2 } from '@tabler/icons-react';
import type { Role } from '../api/types';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';

/** The role hierarchy as an indented tree: a role sees the records of the roles below it. */
export function RolesPage() {
  const roles = useApi<{ items: Role[] }>('roles');
  const ordered = treeOrder(roles.data?.items ?? []);
  return (
    <>
      <PageHeader
        title="Roles"
        description="Users in a role see their own records and those of users in the roles below it. Profiles decide what each role may do in each module."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'User Management' }, { label: 'Roles' }]}
      />
      <ErrorAlert error={roles.error} title="The roles cannot be shown" onRetry={roles.reload} />
      {roles.loading && !roles.data && <SectionLoader label="Loading roles" />}
      {roles.data && (
        <Paper withBorder p="md" maw={720}>
          <Stack gap={6} role="tree" aria-label="Role hierarchy">
            {ordered.map((r) => (
              <Group key={r.id} gap="xs" pl={r.depth * 24} role="treeitem" aria-level={r.depth + 1}>
                <IconHierarchy2 size={16} aria-hidden />
                <Text size="sm" fw={r.depth === 0 ? 600 : 400}>
                  {r.name}
                </Text>
                <Badge size="xs" variant="light" color="gray">
                  {r.userCount} {r.userCount === 1 ? 'user' : 'users'}
                </Badge>
              </Group>
            ))}
          </Stack>
        </Paper>
      )}
    </>
  );
}

function treeOrder(roles: Role[]): Role[] {
  const out: Role[] = [];
  const visit = (parentId: number | null) => {
    for (const r of roles
      .filter((x) => x.parentId === parentId)
      .sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(r);
      visit(r.id);
    }
  };
  visit(null);
  return out;
}
