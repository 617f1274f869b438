import { Badge, Button, Group, Paper, Select, Table, Text } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import type { ApiError } from '../api/api-client';
import type { AuditEntry } from '../api/types';
import { asApiError } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime } from '../format';
import { useMe, useSession } from '../session/session-context';
import { ACTION_OPTIONS, describeAction } from './audit-actions';

interface AuditPage {
  items: AuditEntry[];
  nextCursor: number | null;
}

export function AuditPage() {
  const me = useMe();
  const { api } = useSession();
  const [action, setAction] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [debouncedAction] = useDebouncedValue(action ?? '', 100);
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (before: number | null, replace: boolean) => {
    const q = new URLSearchParams({ limit: '50' });
    if (debouncedAction)
      q.set('action', debouncedAction.includes('.') ? debouncedAction : `${debouncedAction}.*`);
    if (outcome) q.set('outcome', outcome);
    if (before) q.set('before', String(before));
    setLoading(true);
    try {
      const page = await api.get<AuditPage>(`audit?${q}`);
      setItems((prev) => (replace || !prev ? page.items : [...prev, ...page.items]));
      setCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setLoading(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload only when the filters change
  useEffect(() => {
    void load(null, true);
  }, [debouncedAction, outcome]);

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every sign-in, key change and administrative action, newest first. Secrets are never recorded."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Audit log' }]}
      />
      <Group mb="md" align="flex-end" wrap="wrap">
        <Select
          label="Action"
          placeholder="Any action"
          searchable
          clearable
          data={ACTION_OPTIONS}
          value={action}
          onChange={setAction}
          w={320}
        />
        <Select
          label="Outcome"
          placeholder="Any outcome"
          clearable
          data={[
            { value: 'success', label: 'Succeeded' },
            { value: 'failure', label: 'Failed' },
          ]}
          value={outcome}
          onChange={setOutcome}
          w={180}
        />
      </Group>
      <ErrorAlert error={error} title="The audit log cannot be shown" onRetry={() => void load(null, true)} />
      {loading && !items && <SectionLoader label="Loading the audit log" />}
      {items && (
        <Paper withBorder>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="xs" aria-label="Audit entries">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>Details</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatTime(e.at, me.user)}</Table.Td>
                    <Table.Td>{e.actor.username ?? 'system'}</Table.Td>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap">
                        <Text size="sm" title={e.action}>
                          {describeAction(e.action)}
                        </Text>
                        {e.outcome === 'failure' && (
                          <Badge size="xs" color="red">
                            failed
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>{e.target ? `${e.target.type} ${e.target.id}` : '—'}</Table.Td>
                    <Table.Td>
                      <Text size="xs" c="dimmed" lineClamp={2} style={{ wordBreak: 'break-all' }}>
                        {Object.keys(e.details).length ? JSON.stringify(e.details) : ''}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {items.length === 0 && (
            <Text p="md" c="dimmed">
              No entries match these filters.
            </Text>
          )}
        </Paper>
      )}
      {cursor && (
        <Button variant="default" mt="sm" loading={loading} onClick={() => void load(cursor, false)}>
          Show older entries
        </Button>
      )}
    </>
  );
}
