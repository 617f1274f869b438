import { Badge, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { ApiError } from '../api/api-client';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { formatTime, type TimePrefs } from '../format';
import { useSession } from '../session/session-context';
import { FieldValue } from './field-value';
import type { FieldView } from './record-types';

interface HistoryEntry {
  id: number;
  at: string;
  action: 'created' | 'updated' | 'deleted';
  actor: { id: number | null; name: string | null };
  impersonator: string | null;
  channel: 'web' | 'api' | 'webservice' | 'mailroom' | 'system';
  source: string | null;
  changes: Array<{ field: string; label: string; old: unknown; new: unknown }>;
}

interface HistoryPage {
  items: HistoryEntry[];
  nextBefore: number | null;
}

const CHANNELS: Record<HistoryEntry['channel'], string> = {
  web: 'web UI',
  api: 'REST API',
  webservice: 'web services',
  mailroom: 'Mailroom',
  system: 'Rapport',
};
const ACTIONS: Record<HistoryEntry['action'], string> = {
  created: 'Created',
  updated: 'Changed',
  deleted: 'Deleted',
};

function Value({
  field,
  value,
  prefs,
  users,
}: {
  field?: FieldView;
  value: unknown;
  prefs: TimePrefs;
  users: Map<number, string>;
}) {
  if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object')
    return <>{value.length === 1 ? '1 line' : `${value.length} lines`}</>;
  if (!field) return <>{value === null || value === undefined ? '—' : String(value)}</>;
  return <FieldValue field={field} value={value} timeZone={prefs} users={users} />;
}

/**
 * The record's history, newest first: who created, changed or deleted it, through which channel, and each
 * field before and after (as the server presents them to this user).
 */
export function RecordHistory({
  module,
  id,
  fields,
  prefs,
  users,
  version,
}: {
  module: string;
  id: number;
  fields: FieldView[];
  prefs: TimePrefs;
  users: Map<number, string>;
  /** reloads when the record changes */
  version: number;
}) {
  const { api } = useSession();
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const base = `records/${encodeURIComponent(module)}/${id}/history?limit=20`;

  const load = async (before: number | null) => {
    setLoading(true);
    try {
      const page = await api.get<HistoryPage>(before ? `${base}&before=${before}` : base);
      setEntries((prev) => (before ? [...prev, ...page.items] : page.items));
      setNextBefore(page.nextBefore);
      setError(null);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setLoading(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload from the newest when the record changes
  useEffect(() => {
    void load(null);
  }, [base, version]);

  const byName = new Map(fields.map((f) => [f.name, f]));
  return (
    <Card withBorder padding="lg" maw={960} mt="md" aria-labelledby="record-history-title">
      <Title order={2} size="h4" id="record-history-title" mb="sm">
        History
      </Title>
      <ErrorAlert error={error} title="The history cannot be shown" onRetry={() => void load(null)} />
      {loading && entries.length === 0 && <SectionLoader label="Loading the history" />}
      {!loading && !error && entries.length === 0 && (
        <Text c="dimmed" size="sm">
          No changes are recorded for this record.
        </Text>
      )}
      <Stack gap="md">
        {entries.map((e) => (
          <div key={e.id} data-testid="history-entry">
            <Group gap="xs" wrap="wrap">
              <Badge
                variant="light"
                color={e.action === 'deleted' ? 'red' : e.action === 'created' ? 'green' : 'blue'}
              >
                {ACTIONS[e.action]}
              </Badge>
              <Text size="sm">
                by <strong>{e.actor.name ?? 'someone'}</strong>
                {e.impersonator && <> (logged in as them: {e.impersonator})</>} via {CHANNELS[e.channel]},{' '}
                {formatTime(e.at, prefs)}
              </Text>
            </Group>
            {e.source && (
              <Text size="sm" c="dimmed">
                {e.source}
              </Text>
            )}
            {e.changes.length > 0 && (
              <Table.ScrollContainer minWidth={420}>
                <Table striped withTableBorder mt={4} fz="sm">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">Field</Table.Th>
                      {e.action !== 'created' && <Table.Th scope="col">Before</Table.Th>}
                      <Table.Th scope="col">{e.action === 'created' ? 'Value' : 'After'}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {e.changes.map((c) => (
                      <Table.Tr key={c.field}>
                        <Table.Td>{c.label}</Table.Td>
                        {e.action !== 'created' && (
                          <Table.Td>
                            <Value field={byName.get(c.field)} value={c.old} prefs={prefs} users={users} />
                          </Table.Td>
                        )}
                        <Table.Td>
                          <Value field={byName.get(c.field)} value={c.new} prefs={prefs} users={users} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </div>
        ))}
      </Stack>
      {nextBefore !== null && (
        <Button variant="subtle" mt="sm" loading={loading} onClick={() => void load(nextBefore)}>
          Show older changes
        </Button>
      )}
    </Card>
  );
}
