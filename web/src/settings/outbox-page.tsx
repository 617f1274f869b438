import { Alert, Anchor, Modal, Paper, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime } from '../format';
import { useMe, useSession } from '../session/session-context';

interface OutboxMail {
  id: number;
  from: string;
  to: string;
  subject: string;
  text: string;
  createdAt: string;
}

export function OutboxPage() {
  const me = useMe();
  const { can } = useSession();
  const mail = useApi<{ items: OutboxMail[]; smtpConfigured?: boolean }>(
    can('outbox') ? 'mail/outbox' : null,
  );
  const [open, setOpen] = useState<OutboxMail | null>(null);
  return (
    <>
      <PageHeader
        title="Mail outbox"
        description="Emails Rapport has written, such as address verification and password links."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Mail' }, { label: 'Outbox' }]}
      />
      {!can('outbox') && <Text c="dimmed">This server does not keep a mail outbox yet.</Text>}
      {mail.data && mail.data.smtpConfigured === false && (
        <Alert color="blue" variant="light" mb="md" title="No mail server is configured">
          Mail is kept here instead of being sent. Set SMTP_URL to deliver it.
        </Alert>
      )}
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
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {mail.data.items.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>{formatTime(m.createdAt, me.user)}</Table.Td>
                    <Table.Td>{m.to}</Table.Td>
                    <Table.Td>
                      <Anchor component="button" type="button" onClick={() => setOpen(m)}>
                        {m.subject}
                      </Anchor>
                    </Table.Td>
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
      <Modal opened={open !== null} onClose={() => setOpen(null)} title={open?.subject} size="lg">
        {open && (
          <>
            <Text size="sm" c="dimmed">
              From {open.from} to {open.to}
            </Text>
            <Text size="sm" mt="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
              {open.text}
            </Text>
          </>
        )}
      </Modal>
    </>
  );
}
