import { Paper, Table, Text } from '@mantine/core';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime } from '../format';
import { useMe, useSession } from '../session/session-context';

interface OutboxMail {
  id: number | string;
  to: string | string[];
  subject: string;
  createdAt?: string | number;
  sentAt?: string | number | null;
  status?: string;
}

export function OutboxPage() {
  const me = useMe();
  const { can } = useSession();
  const mail = useApi<{ items: OutboxMail[] }>(can('outbox') ? 'mail/outbox' : null);
  return (
    <>
      <PageHeader
        title="Mail outbox"
        description="Emails Rapport has sent or queued. Without a mail server configured, mail stays here."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Mail' }, { label: 'Outbox' }]}
      />
      {!can('outbox') && <Text c="dimmed">This server does not keep a mail outbox yet.</Text>}
      <ErrorAlert error={mail.error} title="The outbox cannot be shown" onRetry={mail.reload} />
      {mail.loading && <SectionLoader label="Loading the outbox" />}
      {mail.data && (
        <Paper withBorder>
          <Table.ScrollContainer minWidth={600}>
            <Table verticalSpacing="sm" aria-label="Outgoing mail">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>To</Table.Th>
                  <Table.Th>Subject</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {mail.data.items.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>{formatTime(m.createdAt, me.user.timeZone)}</Table.Td>
                    <Table.Td>{Array.isArray(m.to) ? m.to.join(', ') : m.to}</Table.Td>
                    <Table.Td>{m.subject}</Table.Td>
                    <Table.Td>{m.status ?? (m.sentAt ? 'Sent' : 'Queued')}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {mail.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No mail yet.
            </Text>
          )}
        </Paper>
      )}
    </>
  );
}
