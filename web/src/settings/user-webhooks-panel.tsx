import { Badge, Card, Table, Text, Title } from '@mantine/core';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { useSession } from '../session/session-context';

interface Webhook {
  id: number;
  url: string;
  module?: string;
  entity?: string;
  operation?: string;
  operationType?: string;
  events?: string[];
  status?: string;
  active?: boolean;
}

/** The webhooks subscribed to one user (API Management → a user); an empty state until webhooks exist. */
export function UserWebhooksPanel({ userId, name }: { userId: number; name?: string }) {
  const { can } = useSession();
  const hooks = useApi<{ items: Webhook[] }>(can('webhooks') ? `webhooks?userId=${userId}` : null);
  const items = hooks.data?.items ?? [];
  return (
    <Card withBorder mt="lg" padding="lg" component="section" aria-labelledby="webhooks-title">
      <Title order={2} size="h4" id="webhooks-title" mb="sm">
        Webhooks of {name ?? 'this user'}
      </Title>
      <ErrorAlert error={hooks.error} title="The webhooks cannot be listed" onRetry={hooks.reload} />
      {hooks.loading && <SectionLoader label="Loading webhooks" />}
      {!hooks.loading && items.length === 0 && (
        <Text c="dimmed" size="sm" data-testid="webhooks-empty">
          No webhooks are subscribed to this user. Webhooks send changes to another system the moment they
          happen.
        </Text>
      )}
      {items.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label="Webhooks">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>URL</Table.Th>
                <Table.Th>Entity</Table.Th>
                <Table.Th>Operation Type</Table.Th>
                <Table.Th>Status</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((w) => {
                const on = w.active ?? w.status !== 'inactive';
                return (
                  <Table.Tr key={w.id}>
                    <Table.Td style={{ wordBreak: 'break-all' }}>{w.url}</Table.Td>
                    <Table.Td>{w.entity ?? w.module ?? '—'}</Table.Td>
                    <Table.Td>{w.operationType ?? w.operation ?? w.events?.join(', ') ?? '—'}</Table.Td>
                    <Table.Td>
                      <Badge color={on ? 'green' : 'gray'} variant="light">
                        {on ? 'Active' : 'Inactive'}
                      </Badge>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}
