import { Anchor, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { useMe } from '../session/session-context';
import { FieldValue } from './field-value';
import { defaultColumns } from './list-columns';
import type { ModuleDescription, ModuleSummary, RestRecord } from './record-types';
import { useModule, useUserNames } from './use-module';

export interface RelationSummary {
  module: string;
  label: string;
  fields: string[];
  total: number;
}

const PAGE = 10;
/** The related lists a sales team looks at first. */
const ORDER = ['Contacts', 'Potentials', 'Quotes', 'HelpDesk', 'Leads', 'Accounts', 'Products'];

/** Every related list of a record (an organization's contacts, deals, quotes, tickets…) with "Add". */
export function RelatedLists({
  module,
  id,
  relations,
  modules,
}: {
  module: string;
  id: number;
  relations: RelationSummary[];
  modules: ModuleSummary[];
}) {
  const sorted = [...relations].sort((a, b) => rank(a.module) - rank(b.module));
  if (sorted.length === 0) return <Text c="dimmed">No other records can point at this one.</Text>;
  return (
    <Stack gap="lg">
      {sorted.map((r) => (
        <RelatedList
          key={r.module}
          source={module}
          sourceId={id}
          relation={r}
          createable={modules.find((m) => m.name === r.module)?.createable ?? false}
        />
      ))}
    </Stack>
  );
}

function rank(name: string) {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
}

function RelatedList({
  source,
  sourceId,
  relation,
  createable,
}: {
  source: string;
  sourceId: number;
  relation: RelationSummary;
  createable: boolean;
}) {
  const me = useMe();
  const { names } = useUserNames();
  const described = useModule(relation.module);
  const [limit, setLimit] = useState(PAGE);
  const list = useApi<{ items: RestRecord[]; total: number }>(
    relation.total > 0 ? `records/${source}/${sourceId}/related/${relation.module}?limit=${limit}` : null,
  );
  const meta: ModuleDescription | undefined = described.data;
  const columns = meta
    ? defaultColumns(meta)
        .filter((n) => !relation.fields.includes(n))
        .slice(0, 4)
        .map((n) => meta.fields.find((f) => f.name === n)!)
    : [];
  const field = relation.fields[0]!;
  return (
    <Card withBorder padding="md" component="section" aria-label={relation.label}>
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h5">
          {relation.label}{' '}
          <Text span c="dimmed" size="sm">
            ({relation.total})
          </Text>
        </Title>
        {createable && (
          <Button
            component={Link}
            to={`/records/${relation.module}/new?${field}=${sourceId}`}
            size="compact-sm"
            variant="light"
            leftSection={<IconPlus size={14} aria-hidden />}
            aria-label={`Add ${meta?.singular ?? relation.label}`}
          >
            Add {meta?.singular ?? ''}
          </Button>
        )}
      </Group>
      {relation.total === 0 && (
        <Text size="sm" c="dimmed">
          None yet.
        </Text>
      )}
      <ErrorAlert error={list.error} title={`${relation.label} cannot be listed`} onRetry={list.reload} />
      {list.loading && !list.data && <SectionLoader label={`Loading ${relation.label.toLowerCase()}`} />}
      {list.data && meta && list.data.items.length > 0 && (
        <Table.ScrollContainer minWidth={520}>
          <Table verticalSpacing="xs" aria-label={relation.label}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                {columns.map((c) => (
                  <Table.Th key={c.name}>{c.label}</Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.items.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/records/${relation.module}/${r.id}`}>
                      {r.label || `#${r.id}`}
                    </Anchor>
                  </Table.Td>
                  {columns.map((c) => (
                    <Table.Td key={c.name}>
                      <FieldValue field={c} value={r[c.name]} timeZone={me.user} users={names} />
                    </Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.data && list.data.total > list.data.items.length && (
        <Button variant="subtle" size="compact-sm" mt="xs" onClick={() => setLimit((l) => l + PAGE * 2)}>
          Show more ({list.data.total - list.data.items.length} more)
        </Button>
      )}
    </Card>
  );
}
