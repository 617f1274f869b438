import {
  Anchor,
  Button,
  Checkbox,
  Group,
  Paper,
  Popover,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import {
  IconColumns,
  IconPlus,
  IconSearch,
  IconSortAscending,
  IconSortDescending,
} from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useMe } from '../session/session-context';
import { FieldValue } from './field-value';
import { columnChoices, useColumns } from './list-columns';
import { ListFilters } from './list-filters';
import { listQuery, rememberedTotal, rememberTotal, useListState } from './list-state';
import type { FieldView, ModuleDescription, RecordPage } from './record-types';
import { useModule, useUserNames } from './use-module';

const PAGE_SIZE = 25;
const NUMERIC = new Set(['currency', 'decimal', 'integer']);

export function RecordListPage() {
  const { module = '' } = useParams();
  const described = useModule(module);
  const meta = described.data;
  return (
    <>
      <PageHeader
        title={meta?.label ?? module}
        crumbs={[{ label: 'Records', to: '/records' }, { label: meta?.label ?? module }]}
        actions={
          meta?.createable && (
            <Button component={Link} to={`/records/${module}/new`} leftSection={<IconPlus size={16} />}>
              Add {meta.singular}
            </Button>
          )
        }
      />
      <ErrorAlert error={described.error} title="This module cannot be opened" onRetry={described.reload} />
      {described.loading && !meta && <SectionLoader label="Loading the module" />}
      {meta && meta.name === module && <RecordTable key={module} meta={meta} />}
    </>
  );
}

function RecordTable({ meta }: { meta: ModuleDescription }) {
  const me = useMe();
  const { names, users } = useUserNames();
  const [state, update] = useListState();
  const { columns, names: columnNames, isDefault, save } = useColumns(meta, me.user.id);
  const phone = useMediaQuery('(max-width: 48em)');
  const nameField = meta.labelFields.at(-1) ?? meta.fields[0]?.name ?? 'id';

  // the search box follows the URL (Back) and writes to it once typing pauses
  const [search, setSearch] = useState(state.q);
  const [debounced] = useDebouncedValue(search.trim(), 300);
  useEffect(() => setSearch(state.q), [state.q]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a settled search changes the URL
  useEffect(() => {
    if (debounced !== state.q.trim()) update({ q: debounced }, { replace: true });
  }, [debounced]);

  const page = useApi<RecordPage>(
    `records/${meta.name}?${listQuery(meta.name, state, me.user.id, PAGE_SIZE)}`,
  );
  // data arrives only for the current query, so the state here is the one it answers
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new answer is remembered
  useEffect(() => {
    if (page.data?.total !== undefined) rememberTotal(meta.name, me.user.id, state, page.data.total);
  }, [page.data]);
  const total = page.data?.total ?? rememberedTotal(meta.name, me.user.id, state);
  const sortField = state.sort.replace(/^-/, '');
  const descending = state.sort.startsWith('-');
  const toggleSort = (field: string) =>
    update({ sort: sortField === field && !descending ? `-${field}` : field });
  const filtered = state.q || state.owner || state.filters.length > 0;
  const header = [{ name: nameField, label: 'Name', type: 'string' } as FieldView, ...columns];

  return (
    <>
      <Group mb="xs" align="flex-end" wrap="wrap" gap="sm">
        <TextInput
          label={`Search ${meta.label.toLowerCase()}`}
          placeholder="Name, email, phone, number…"
          leftSection={<IconSearch size={16} aria-hidden />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={{ base: '100%', xs: 280 }}
          type="search"
        />
        {meta.fields.some((f) => f.name === 'assigned_user_id') && (
          <Select
            label="Owner"
            data={[
              { value: '', label: 'Anyone' },
              { value: 'me', label: 'My records' },
              ...users
                .filter((u) => u.id !== me.user.id)
                .map((u) => ({ value: String(u.id), label: names.get(u.id)! })),
            ]}
            value={state.owner}
            onChange={(v) => (v ?? '') !== state.owner && update({ owner: v ?? '' })}
            allowDeselect={false}
            searchable
            w={180}
          />
        )}
        <ColumnPicker meta={meta} chosen={columnNames} isDefault={isDefault} onChange={save} />
      </Group>
      <Stack gap={0} mb="md">
        <ListFilters meta={meta} filters={state.filters} onChange={(filters) => update({ filters })} />
      </Stack>
      <ErrorAlert error={page.error} title="The records cannot be listed" onRetry={page.reload} />
      {page.loading && !page.data && <SectionLoader label="Loading records" />}
      {page.data && phone && (
        <Stack gap="xs" component="ul" aria-label={meta.label} p={0} m={0} style={{ listStyle: 'none' }}>
          {page.data.items.map((r) => (
            <Paper withBorder p="sm" component="li" key={r.id}>
              <Anchor component={Link} to={`/records/${meta.name}/${r.id}`} fw={600}>
                {r.label || `#${r.id}`}
              </Anchor>
              {columns.map((c) => (
                <Group key={c.name} gap={6} wrap="nowrap" align="baseline">
                  <Text size="xs" c="dimmed" miw={90}>
                    {c.label}
                  </Text>
                  <Text size="sm" component="div" style={{ wordBreak: 'break-word' }}>
                    <FieldValue field={c} value={r[c.name]} timeZone={me.user} users={names} />
                  </Text>
                </Group>
              ))}
            </Paper>
          ))}
        </Stack>
      )}
      {page.data && !phone && (
        <Paper withBorder>
          <Table.ScrollContainer minWidth={720}>
            <Table striped highlightOnHover verticalSpacing="sm" aria-label={meta.label}>
              <Table.Thead>
                <Table.Tr>
                  {header.map((c) => (
                    <Table.Th
                      key={c.name}
                      aria-sort={sortField === c.name ? (descending ? 'descending' : 'ascending') : undefined}
                      style={NUMERIC.has(c.type) ? { textAlign: 'right' } : undefined}
                    >
                      {c.type === 'reference' || c.type === 'multipicklist' || c.masked ? (
                        <Text span fw={600} size="sm">
                          {c.label}
                        </Text>
                      ) : (
                        <Anchor
                          component="button"
                          type="button"
                          c="dark"
                          fw={600}
                          size="sm"
                          onClick={() => toggleSort(c.name)}
                        >
                          {c.label}
                          {sortField === c.name &&
                            (descending ? (
                              <IconSortDescending size={14} aria-hidden />
                            ) : (
                              <IconSortAscending size={14} aria-hidden />
                            ))}
                        </Anchor>
                      )}
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.data.items.map((r) => (
                  <Table.Tr key={r.id}>
                    {header.map((c, i) => (
                      <Table.Td key={c.name} style={NUMERIC.has(c.type) ? { textAlign: 'right' } : undefined}>
                        {i === 0 ? (
                          <Anchor component={Link} to={`/records/${meta.name}/${r.id}`} fw={500}>
                            {r.label || `#${r.id}`}
                          </Anchor>
                        ) : (
                          <FieldValue field={c} value={r[c.name]} timeZone={me.user} users={names} />
                        )}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
      {page.data?.items.length === 0 && (
        <Text p="md" c="dimmed">
          {filtered ? 'No records match.' : `There are no ${meta.label.toLowerCase()} yet.`}
        </Text>
      )}
      <Group justify="space-between" mt="sm">
        <Text size="sm" c="dimmed" aria-live="polite">
          {total !== undefined ? `${total} in all` : ''}
        </Text>
        <Group gap="xs">
          <Button
            variant="default"
            disabled={state.cursors.length === 0}
            onClick={() => update({ cursors: state.cursors.slice(0, -1) })}
          >
            Previous
          </Button>
          <Button
            variant="default"
            disabled={!page.data?.nextCursor}
            onClick={() =>
              page.data?.nextCursor && update({ cursors: [...state.cursors, page.data.nextCursor] })
            }
          >
            Next
          </Button>
        </Group>
      </Group>
    </>
  );
}

/** Choose the list's columns (kept per user in this browser). */
function ColumnPicker({
  meta,
  chosen,
  isDefault,
  onChange,
}: {
  meta: ModuleDescription;
  chosen: string[];
  isDefault: boolean;
  onChange: (names: string[] | null) => void;
}) {
  const choices = columnChoices(meta);
  return (
    <Popover position="bottom-end" withinPortal trapFocus shadow="md">
      <Popover.Target>
        <Button variant="default" leftSection={<IconColumns size={16} aria-hidden />}>
          Columns
        </Button>
      </Popover.Target>
      <Popover.Dropdown aria-label="Columns">
        <Stack gap={6} mah={360} style={{ overflowY: 'auto' }}>
          {choices.map((f) => (
            <Checkbox
              key={f.name}
              label={f.label}
              checked={chosen.includes(f.name)}
              onChange={(e) =>
                onChange(
                  e.currentTarget.checked
                    ? choices.map((c) => c.name).filter((n) => n === f.name || chosen.includes(n))
                    : chosen.filter((n) => n !== f.name),
                )
              }
            />
          ))}
        </Stack>
        <Button
          variant="subtle"
          size="compact-sm"
          mt="sm"
          disabled={isDefault}
          onClick={() => onChange(null)}
        >
          Reset to default columns
        </Button>
      </Popover.Dropdown>
    </Popover>
  );
}
