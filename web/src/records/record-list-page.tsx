import { Anchor, Button, Group, Paper, Select, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconPlus, IconSearch, IconSortAscending, IconSortDescending } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useMe } from '../session/session-context';
import { FieldValue } from './field-value';
import { type FieldView, LIST_TYPES, type ModuleDescription, type RecordPage } from './record-types';
import { useModule, useUserNames } from './use-module';

const PAGE_SIZE = 25;

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
      {meta && <RecordTable key={module} meta={meta} />}
    </>
  );
}

function RecordTable({ meta }: { meta: ModuleDescription }) {
  const me = useMe();
  const { names } = useUserNames();
  const searchField = meta.labelFields.at(-1) ?? meta.fields[0]?.name ?? 'id';
  const nameColumn = { name: searchField, label: 'Name', type: 'string', mandatory: false, editable: false };
  const columns = [nameColumn, ...listColumns(meta)];
  const filterable = meta.fields.filter((f) => f.type === 'picklist');
  const searchMasked = meta.fields.find((f) => f.name === searchField)?.masked === true;
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 300);
  const [filterField, setFilterField] = useState<string | null>(null);
  const [filterValue, setFilterValue] = useState<string | null>(null);
  const [sort, setSort] = useState<string>('-modifiedtime');
  const [cursors, setCursors] = useState<string[]>([]);

  const q = new URLSearchParams({ limit: String(PAGE_SIZE), count: 'true', sort });
  if (debounced && !searchMasked) q.set(`filter[${searchField}][contains]`, debounced);
  if (filterField && filterValue) q.set(`filter[${filterField}][eq]`, filterValue);
  const cursor = cursors.at(-1);
  if (cursor) q.set('cursor', cursor);
  const page = useApi<RecordPage>(`records/${meta.name}?${q}`);
  const reset = () => setCursors([]);
  const sortField = sort.replace(/^-/, '');
  const descending = sort.startsWith('-');
  const toggleSort = (field: string) => {
    setSort(sortField === field && !descending ? `-${field}` : field);
    reset();
  };
  const picklist = filterable.find((f) => f.name === filterField);

  return (
    <>
      <Group mb="md" align="flex-end" wrap="wrap">
        <TextInput
          label={`Search ${meta.label.toLowerCase()}`}
          placeholder={meta.fields.find((f) => f.name === searchField)?.label}
          disabled={searchMasked}
          description={
            searchMasked
              ? `${meta.fields.find((f) => f.name === searchField)?.label} is masked for you, so it cannot be searched.`
              : undefined
          }
          leftSection={<IconSearch size={16} aria-hidden />}
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            reset();
          }}
          w={280}
        />
        {filterable.length > 0 && (
          <>
            <Select
              label="Filter by"
              placeholder="No filter"
              clearable
              data={filterable.map((f) => ({ value: f.name, label: f.label }))}
              value={filterField}
              onChange={(v) => {
                setFilterField(v);
                setFilterValue(null);
                reset();
              }}
              w={200}
            />
            {picklist && (
              <Select
                label={picklist.label}
                placeholder="Any"
                clearable
                data={picklist.picklistValues ?? []}
                value={filterValue}
                onChange={(v) => {
                  setFilterValue(v);
                  reset();
                }}
                w={200}
              />
            )}
          </>
        )}
      </Group>
      <ErrorAlert error={page.error} title="The records cannot be listed" onRetry={page.reload} />
      {page.loading && !page.data && <SectionLoader label="Loading records" />}
      {page.data && (
        <Paper withBorder>
          <Table.ScrollContainer minWidth={720}>
            <Table striped highlightOnHover verticalSpacing="sm" aria-label={meta.label}>
              <Table.Thead>
                <Table.Tr>
                  {columns.map((c) => (
                    <Table.Th
                      key={c.name}
                      aria-sort={sortField === c.name ? (descending ? 'descending' : 'ascending') : undefined}
                    >
                      {meta.fields.find((f) => f.name === c.name)?.masked ? (
                        <Text fw={600} size="sm" title="Masked for you: cannot be sorted">
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
                    {columns.map((c, i) => (
                      <Table.Td key={c.name}>
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
          {page.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              {debounced || filterValue
                ? 'No records match.'
                : `There are no ${meta.label.toLowerCase()} yet.`}
            </Text>
          )}
        </Paper>
      )}
      <Group justify="space-between" mt="sm">
        <Text size="sm" c="dimmed">
          {page.data?.total !== undefined ? `${page.data.total} in all` : ''}
        </Text>
        <Group gap="xs">
          <Button
            variant="default"
            disabled={cursors.length === 0}
            onClick={() => setCursors(cursors.slice(0, -1))}
          >
            Previous
          </Button>
          <Button
            variant="default"
            disabled={!page.data?.nextCursor}
            onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}
          >
            Next
          </Button>
        </Group>
      </Group>
    </>
  );
}

/** Up to five columns besides the name: one of each useful type first (email, phone, picklist, …). */
function listColumns(meta: ModuleDescription): FieldView[] {
  const candidates = meta.fields.filter(
    (f) => !meta.labelFields.includes(f.name) && LIST_TYPES.has(f.type) && !f.name.endsWith('_no'),
  );
  const picked: FieldView[] = [];
  for (const type of LIST_TYPES) {
    const f = candidates.find((c) => c.type === type);
    if (f) picked.push(f);
  }
  return picked.slice(0, 5);
}
