import { Badge, Button, Code, Group, Modal, Select, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../api/use-api';
import { useActions } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { formatTime } from '../format';
import { useMe, useSession } from '../session/session-context';
import type { Attempt, Delivery, Webhook } from './webhook-types';

/** How far back "Recover failed" goes: every failed message since then is sent again. */
const RECOVER_WINDOWS = [
  { value: '1', label: 'last hour' },
  { value: '24', label: 'last 24 hours' },
  { value: '168', label: 'last 7 days' },
  { value: '720', label: 'last 30 days' },
];

const STATUS_COLORS: Record<Delivery['status'], string> = {
  pending: 'yellow',
  delivered: 'green',
  failed: 'red',
  cancelled: 'gray',
};

/** One webhook's messages (newest first) with their attempts; resend one, or recover failed ones. */
export function WebhookDeliveries({
  hook,
  opened,
  onClose,
}: {
  hook: Webhook;
  opened: boolean;
  onClose: () => void;
}) {
  const me = useMe();
  const { api } = useSession();
  const list = useApi<{ items: Delivery[] }>(opened ? `webhooks/${hook.id}/deliveries?limit=50` : null);
  const [open, setOpen] = useState<number | null>(null);
  const detail = useApi<Delivery & { attemptLog: Attempt[] }>(
    open !== null ? `webhooks/${hook.id}/deliveries/${open}` : null,
  );
  const { run, error } = useActions();
  const tz = me.user;
  const [recoverHours, setRecoverHours] = useState('168');

  const resend = (d: Delivery) =>
    run(async () => {
      await api.post(`webhooks/${hook.id}/deliveries/${d.id}/redeliver`);
      setTimeout(list.reload, 800);
      return { title: 'Message queued', message: `${d.eventType} is sent again.` };
    });

  const recover = () =>
    run(async () => {
      const since = new Date(Date.now() - Number(recoverHours) * 3_600_000).toISOString();
      const res = await api.post<{ messages: number }>(`webhooks/${hook.id}/recover`, { since });
      setTimeout(list.reload, 800);
      const window = RECOVER_WINDOWS.find((w) => w.value === recoverHours)!.label;
      return {
        title: 'Failed messages queued',
        message: `${res.messages} failed message(s) of the ${window} are sent again.`,
      };
    });

  return (
    <Modal opened={opened} onClose={onClose} title={`Messages of ${hook.url}`} size="xl">
      <Stack>
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            Each change is one message; every attempt to deliver it is listed with the receiver's answer.
          </Text>
          <Group gap="xs">
            <Button size="xs" variant="default" onClick={list.reload}>
              Refresh
            </Button>
            <Select
              size="xs"
              w={150}
              aria-label="Recover failed messages of"
              data={RECOVER_WINDOWS}
              value={recoverHours}
              onChange={(v) => v && setRecoverHours(v)}
              allowDeselect={false}
            />
            <Button size="xs" variant="light" onClick={() => void recover()}>
              Recover failed
            </Button>
          </Group>
        </Group>
        <ErrorAlert error={list.error ?? error} title="The messages cannot be shown" onRetry={list.reload} />
        {list.loading && !list.data && <SectionLoader label="Loading messages" />}
        {list.data && list.data.items.length === 0 && (
          <Text c="dimmed" size="sm" data-testid="deliveries-empty">
            No messages yet. Changes to matching records, and test events, appear here.
          </Text>
        )}
        {list.data && list.data.items.length > 0 && (
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Webhook messages" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Attempts</Table.Th>
                  <Table.Th>HTTP</Table.Th>
                  <Table.Th>Next retry</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.items.map((d) => (
                  <Table.Tr key={d.id}>
                    <Table.Td>{formatTime(d.createdAt, tz)}</Table.Td>
                    <Table.Td>{d.eventType}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[d.status]} variant="light">
                        {d.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{d.attempts}</Table.Td>
                    <Table.Td>{d.lastStatusCode ?? (d.lastError ? 'error' : '—')}</Table.Td>
                    <Table.Td>{d.nextAttemptAt ? formatTime(d.nextAttemptAt, tz) : '—'}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-xs" variant="subtle" onClick={() => setOpen(d.id)}>
                          Attempts
                        </Button>
                        {d.status !== 'pending' && (
                          <Button
                            size="compact-xs"
                            variant="subtle"
                            onClick={() => void resend(d)}
                            aria-label={`Resend message ${d.id}`}
                          >
                            Resend
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {open !== null && (
          <Stack gap="xs" data-testid="attempt-log">
            <Text fw={600}>Attempts of message {detail.data?.msgId ?? open}</Text>
            <ErrorAlert error={detail.error} title="The attempts cannot be shown" onRetry={detail.reload} />
            {detail.data?.attemptLog.length === 0 && (
              <Text size="sm" c="dimmed">
                Not attempted yet.
              </Text>
            )}
            {detail.data?.attemptLog.map((a) => (
              <Stack key={a.id} gap={2}>
                <Text size="sm">
                  {formatTime(a.at, tz)} — {a.statusCode !== null ? `HTTP ${a.statusCode}` : 'no answer'} in{' '}
                  {a.latencyMs} ms{a.error ? ` — ${a.error}` : ''}
                  {a.nextAttemptAt ? ` — next retry ${formatTime(a.nextAttemptAt, tz)}` : ''}
                </Text>
                {a.responseBody && (
                  <Code block style={{ maxHeight: 120, overflow: 'auto' }}>
                    {a.responseBody}
                  </Code>
                )}
              </Stack>
            ))}
          </Stack>
        )}
      </Stack>
    </Modal>
  );
}
