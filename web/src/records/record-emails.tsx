import { Button, Card, Collapse, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { IconChevronDown, IconChevronUp, IconPaperclip } from '@tabler/icons-react';
import { type ReactNode, useId, useState } from 'react';
import { formatTime, type TimePrefs } from '../format';

/** One email the mailroom created the record from or linked to it, as `GET /mailroom/records/…/emails` sends it. */
export interface RecordEmail {
  messageId: number;
  action: string | null;
  ruleName: string | null;
  receivedAt: string;
  email: {
    from: { address: string; name: string } | null;
    to: string[];
    cc: string[];
    subject: string;
    date: number | null;
    messageId: string | null;
    text: string;
    attachments: Array<{ filename: string; mimeType: string; size: number }>;
  };
}

const ACTIONS: Record<string, string> = {
  create: 'created this record',
  link: 'linked to this record',
  update_ticket: 'updated this ticket',
};

/** 1536 → "1.5 KB"; sizes are of the decoded attachment (its content is not kept). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

const who = (from: RecordEmail['email']['from']) =>
  from ? (from.name ? `${from.name} <${from.address}>` : from.address) : '(no sender)';

function Header({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" component="dt">
        {term}
      </Text>
      <Text size="sm" component="dd" m={0} style={{ wordBreak: 'break-word' }}>
        {children}
      </Text>
    </div>
  );
}

function EmailCard({ item, prefs }: { item: RecordEmail; prefs: TimePrefs }) {
  const [open, setOpen] = useState(false);
  const textId = useId();
  const { email } = item;
  const subject = email.subject || '(no subject)';
  return (
    <Card withBorder padding="lg" component="article" aria-label={`Email: ${subject}`}>
      <Title order={2} size="h5" mb="sm">
        {subject}
      </Title>
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="xs" component="dl" m={0}>
        <Header term="From">{who(email.from)}</Header>
        <Header term="Date">{formatTime(email.date ?? item.receivedAt, prefs, '—')}</Header>
        <Header term="To">{email.to.length ? email.to.join(', ') : '—'}</Header>
        <Header term="Cc">{email.cc.length ? email.cc.join(', ') : '—'}</Header>
        <Header term="Mailroom">
          {item.ruleName ? `Rule ${item.ruleName}` : 'A rule'}{' '}
          {ACTIONS[item.action ?? ''] ?? item.action ?? ''}
          {' · received '}
          {formatTime(item.receivedAt, prefs)}
        </Header>
      </SimpleGrid>
      <Stack gap="xs" mt="md">
        <Group>
          <Button
            variant="default"
            size="compact-sm"
            aria-expanded={open}
            aria-controls={textId}
            leftSection={open ? <IconChevronUp size={16} /> : <IconChevronDown size={16} />}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? 'Hide the text' : 'Show the text'}
          </Button>
        </Group>
        <Collapse expanded={open} id={textId}>
          {/* plain text, never HTML: React escapes it, and the server keeps only the text part */}
          <Text
            component="pre"
            size="sm"
            m={0}
            p="sm"
            bg="var(--mantine-color-default-hover)"
            style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', fontFamily: 'inherit' }}
            data-testid="email-text"
          >
            {email.text || '(the email has no text)'}
          </Text>
        </Collapse>
        {email.attachments.length > 0 ? (
          <Table withTableBorder verticalSpacing={4} aria-label={`Attachments of ${subject}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>
                  <Group gap={4} wrap="nowrap">
                    <IconPaperclip size={14} aria-hidden />
                    Attachment
                  </Group>
                </Table.Th>
                <Table.Th>Type</Table.Th>
                <Table.Th style={{ textAlign: 'right' }}>Size</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {email.attachments.map((a, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: two attachments may share name, type and size
                <Table.Tr key={i}>
                  <Table.Td style={{ wordBreak: 'break-word' }}>{a.filename}</Table.Td>
                  <Table.Td>{a.mimeType}</Table.Td>
                  <Table.Td style={{ textAlign: 'right', whiteSpace: 'nowrap' }} title={`${a.size} bytes`}>
                    {formatSize(a.size)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : (
          <Text size="sm" c="dimmed">
            No attachments.
          </Text>
        )}
        {email.attachments.length > 0 && (
          <Text size="xs" c="dimmed">
            Rapport lists attachments; it does not keep their content.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

/** The emails of a record, newest first (values masked for the viewer are masked in them too). */
export function RecordEmails({ items, prefs }: { items: RecordEmail[]; prefs: TimePrefs }) {
  if (items.length === 0)
    return <Text c="dimmed">No emails were turned into this record or linked to it by the mailroom.</Text>;
  return (
    <Stack gap="md" maw={1040} aria-label="Emails" component="section">
      {items.map((item) => (
        <EmailCard key={item.messageId} item={item} prefs={prefs} />
      ))}
    </Stack>
  );
}
