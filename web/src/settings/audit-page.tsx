import { Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../api/api-client';
import type { AuditEntry, Page, UserView } from '../api/types';
import { asApiError, useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime, fullName } from '../format';
import { useMe, useSession } from '../session/session-context';
import { ACTION_OPTIONS, describeAction } from './audit-actions';
import { detailLines, startOfDay, targetLabel, whoDidIt } from './audit-details';

interface AuditPage {
  items: AuditEntry[];
  nextCursor: number | null;
}

export function AuditPage() {
  const me = useMe();
  const { api, can } = useSession();
  const [action, setAction] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [actor, setActor] = useState<string | null>(null);
  const [fromDay, setFromDay] = useState('');
  const [toDay, setToDay] = useState('');
  const people = useApi<Page<UserView>>('users?deleted=all&limit=200');
  const userOptions = (people.data?.items ?? []).map((u) => ({
    value: String(u.id),
    label: `${fullName(u)} (${u.username})${u.deletedAt ? ' · deleted' : ''}`,
  }));
  const [debouncedAction] = useDebouncedValue(action ?? '', 100);
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);

  const filters = new URLSearchParams();
  if (debouncedAction)
    filters.set('action', debouncedAction.includes('.') ? debouncedAction : `${debouncedAction}.*`);
  if (outcome) filters.set('outcome', outcome);
  if (actor) filters.set('actorUserId', actor);
  const from = fromDay ? startOfDay(fromDay, me.user.timeZone) : null;
  const to = toDay ? startOfDay(toDay, me.user.timeZone, 1) : null;
  if (from) filters.set('from', from);
  if (to) filters.set('to', to);
  const rangeBackwards = Boolean(from && to && from >= to);
  const filterKey = filters.toString();

  // answers can arrive out of order when filters change quickly: only the latest request may fill the table
  const latest = useRef(0);
  const load = async (before: number | null, replace: boolean) => {
    if (rangeBackwards) return;
    const q = new URLSearchParams(filters);
    q.set('limit', '50');
    if (before) q.set('before', String(before));
    const seq = ++latest.current;
    setLoading(true);
    try {
      const page = await api.get<AuditPage>(`audit?${q}`);
      if (seq !== latest.current) return;
      setItems((prev) => (replace || !prev ? page.items : [...prev, ...page.items]));
      setCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      if (seq === latest.current) setError(asApiError(err));
    } finally {
      if (seq === latest.current) setLoading(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload only when the filters change
  useEffect(() => {
    void load(null, true);
  }, [filterKey]);

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
        <Select
          label="User"
          placeholder="Anyone"
          searchable
          clearable
          data={userOptions}
          value={actor}
          onChange={setActor}
          w={280}
        />
        <TextInput
          type="date"
          label="From"
          value={fromDay}
          onChange={(e) => setFromDay(e.currentTarget.value)}
          w={170}
        />
        <TextInput
          type="date"
          label="To (inclusive)"
          value={toDay}
          onChange={(e) => setToDay(e.currentTarget.value)}
          error={rangeBackwards ? 'Before the start date' : undefined}
          w={170}
        />
        {can('auditExport') && (
          <Button
            component="a"
            href={`/api/v1/audit/export.csv${filterKey ? `?${filterKey}` : ''}`}
            download
            variant="default"
            leftSection={<IconDownload size={16} />}
          >
            Export CSV
          </Button>
        )}
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
                    <Table.Td>
                      <Text size="sm" title={e.actor.username ?? undefined}>
                        {whoDidIt(e)}
                      </Text>
                      {e.actingAs && (
                        <Badge size="xs" color="orange" variant="light">
                          logged in as
                        </Badge>
                      )}
                    </Table.Td>
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
                    <Table.Td>{targetLabel(e)}</Table.Td>
                    <Table.Td>
                      <Details details={e.details} formatAt={(ms) => formatTime(ms, me.user)} />
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

function Details({
  details,
  formatAt,
}: {
  details: Record<string, unknown>;
  formatAt: (ms: number) => string;
}) {
  const lines = detailLines(details, formatAt);
  if (lines.length === 0) return null;
  return (
    <Stack gap={0}>
      {lines.map(([k, v]) => (
        <Text key={k} size="xs" style={{ overflowWrap: 'anywhere' }}>
          <Text span size="xs" fw={600}>
            {k}:
          </Text>{' '}
          {v}
        </Text>
      ))}
    </Stack>
  );
}
