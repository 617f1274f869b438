import '@mantine/charts/styles.css';
import { BarChart, LineChart, PieChart } from '@mantine/charts';
import {
  Alert,
  Button,
  Checkbox,
  Group,
  MultiSelect,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconDownload, IconInfoCircle, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useApi } from '../api/use-api';
import { useActions } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import type { ModuleSummary } from '../records/record-types';
import { useSession } from '../session/session-context';
import { SchedulesPanel, type Sharing, SharingFields } from './report-delivery';
import { CHARTS, EditableRows, MATCHES, OPS, REPORT_TYPES, replaceAt } from './report-fields';
import {
  type Cell,
  NUMERIC_TYPES,
  type ReportCondition,
  type ReportDefinition,
  type ReportResult,
  type SavedReport,
  type SourceOption,
} from './report-types';

const EMPTY: ReportDefinition = {
  type: 'detail',
  primary: 'Quotes',
  related: [],
  columns: [],
  groupBy: [],
  aggregates: [],
  sort: [],
  chart: null,
};

const PERIODS = [
  'today',
  'yesterday',
  'this_week',
  'last_week',
  'this_month',
  'last_month',
  'this_quarter',
  'this_year',
  'last_year',
  'last_7_days',
  'last_30_days',
  'next_30_days',
].map((p) => ({ value: p, label: p.replace(/_/g, ' ') }));

export function ReportBuilderPage() {
  const { id = 'new' } = useParams();
  const saved = useApi<SavedReport>(id === 'new' ? null : `reports/${id}`);
  if (id !== 'new' && !saved.data)
    return (
      <>
        <PageHeader title="Report" crumbs={[{ label: 'Reports', to: '/reports' }, { label: 'Report' }]} />
        <ErrorAlert error={saved.error} title="This report cannot be opened" onRetry={saved.reload} />
        {saved.loading && <SectionLoader label="Loading the report" />}
      </>
    );
  return <Builder key={id} initial={saved.data} />;
}

function Builder({ initial }: { initial?: SavedReport }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const [name, setName] = useState(initial?.name ?? '');
  const [sharing, setSharing] = useState<Sharing>({
    visibility: initial?.visibility ?? 'private',
    sharedUserIds: initial?.sharedUserIds ?? [],
    sharedRoleIds: initial?.sharedRoleIds ?? [],
  });
  const [def, setDef] = useState<ReportDefinition>({ ...EMPTY, ...initial?.definition });
  const [match, setMatch] = useState<'and' | 'or'>(
    initial?.definition.filter && 'or' in initial.definition.filter ? 'or' : 'and',
  );
  const [conditions, setConditions] = useState<ReportCondition[]>(
    initial?.definition.filter
      ? 'and' in initial.definition.filter
        ? initial.definition.filter.and
        : initial.definition.filter.or
      : [],
  );
  const [result, setResult] = useState<ReportResult | null>(null);
  const { run, busy, error } = useActions();
  const [bom, setBom] = useState(false);
  const modules = useApi<{ items: ModuleSummary[] }>('modules');
  const sources = useApi<{ items: SourceOption[] }>(`reports/sources/${def.primary}`);
  const options = sources.data?.items ?? [];
  const chosen = new Set([def.primary, ...def.related.map((r) => r.name ?? r.module)]);
  const inUse = options.filter((o) => chosen.has(o.name));
  const fieldData = (pick: (t: string) => boolean = () => true) =>
    inUse.map((s) => ({
      group: s.label,
      items: s.fields
        .filter((f) => pick(f.type))
        .map((f) => ({
          value: `${s.name}.${f.name}`,
          label: `${s.cardinality === 'primary' ? '' : `${s.module}: `}${f.label}`,
        })),
    }));
  const maskedKeys = new Set(
    inUse.flatMap((s) => s.fields.filter((f) => f.masked).map((f) => `${s.name}.${f.name}`)),
  );
  /** fields the viewer may filter, group and sort by (not masked for them) */
  const usable = (pick?: (t: string) => boolean) =>
    fieldData(pick).map((g) => ({ ...g, items: g.items.filter((i) => !maskedKeys.has(i.value)) }));

  const update = (patch: Partial<ReportDefinition>) => setDef((d) => ({ ...d, ...patch }));
  const definition = (): ReportDefinition => ({
    ...def,
    filter: conditions.length ? (match === 'and' ? { and: conditions } : { or: conditions }) : undefined,
  });

  const setRelated = (names: string[]) => {
    const picked = options.filter((o) => names.includes(o.name));
    // a source reached through another (a line item's product) brings that one along
    for (const o of [...picked]) {
      const via = o.from && o.from !== def.primary ? options.find((x) => x.name === o.from) : undefined;
      if (via && !picked.includes(via)) picked.unshift(via);
    }
    const ordered = [
      ...picked.filter((o) => o.from === def.primary),
      ...picked.filter((o) => o.from !== def.primary),
    ];
    const keep = new Set([def.primary, ...ordered.map((o) => o.name)]);
    const ok = (key: string) => keep.has(key.split('.')[0] ?? '');
    setConditions((cs) => cs.filter((c) => ok(c.field)));
    update({
      related: ordered.slice(0, 3).map((o) => ({
        module: o.module,
        ...(o.name !== o.module ? { name: o.name } : {}),
        ...(o.from && o.from !== def.primary ? { from: o.from } : {}),
        ...(o.via ? { via: o.via } : {}),
      })),
      columns: def.columns.filter(ok),
      groupBy: def.groupBy.filter(ok),
      sort: def.sort.filter((s) => ok(s.field)),
      aggregates: def.aggregates.filter((a) => !a.field || ok(a.field)),
    });
  };

  const runNow = () =>
    run(async () => {
      setResult(await api.post<ReportResult>('reports/run', { definition: definition() }));
    });

  const save = () =>
    run(async () => {
      const body = { name, ...sharing, definition: definition() };
      const out = initial
        ? await api.patch<SavedReport>(`reports/${initial.id}`, body)
        : await api.post<SavedReport>('reports', body);
      if (!initial) navigate(`/reports/${out.id}`, { replace: true });
      return `Report “${out.name}” was saved.`;
    });

  const remove = () =>
    run(async () => {
      if (!initial) return;
      await api.del(`reports/${initial.id}`);
      navigate('/reports');
    });

  return (
    <>
      <PageHeader
        title={initial?.name ?? 'New report'}
        crumbs={[{ label: 'Reports', to: '/reports' }, { label: initial?.name ?? 'New report' }]}
        actions={
          <Group>
            {initial && (
              <>
                <Checkbox
                  label="BOM for Excel"
                  checked={bom}
                  onChange={(e) => setBom(e.currentTarget.checked)}
                />
                <Button
                  component="a"
                  variant="default"
                  href={`/api/v1/reports/${initial.id}/export.csv${bom ? '?bom=true' : ''}`}
                  leftSection={<IconDownload size={16} />}
                >
                  Export CSV
                </Button>
              </>
            )}
            {initial?.editable && (
              <Button
                variant="subtle"
                color="red"
                onClick={() => void remove()}
                leftSection={<IconTrash size={16} />}
              >
                Delete
              </Button>
            )}
          </Group>
        }
      />
      <Stack>
        <Paper withBorder p="md">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <TextInput
              label="Report name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              required
            />
            <Select
              label="Primary module"
              data={(modules.data?.items ?? [])
                .filter((m) => m.retrieveable)
                .map((m) => ({ value: m.name, label: m.label }))}
              value={def.primary}
              onChange={(v) => {
                if (!v) return;
                setConditions([]);
                setResult(null);
                setDef({ ...EMPTY, type: def.type, primary: v });
              }}
              allowDeselect={false}
            />
            <MultiSelect
              label="Related modules (up to 3)"
              data={options
                .filter((o) => o.cardinality !== 'primary')
                .map((o) => ({
                  value: o.name,
                  label: `${o.label}${o.cardinality === 'many' ? ' — many' : ''}`,
                }))}
              value={def.related.map((r) => r.name ?? r.module)}
              onChange={setRelated}
              maxValues={3}
              searchable
            />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, md: 2 }} mt="md">
            <MultiSelect
              label="Columns"
              data={fieldData()}
              value={def.columns}
              onChange={(columns) => update({ columns })}
              maxValues={50}
              searchable
            />
            <Group grow align="end">
              <Select
                label="Report type"
                data={REPORT_TYPES}
                value={def.type}
                onChange={(v) => v && update({ type: v as ReportDefinition['type'] })}
                allowDeselect={false}
              />
              <Select
                label="Chart"
                data={CHARTS}
                value={def.chart?.type ?? 'none'}
                onChange={(v) => update({ chart: !v || v === 'none' ? null : { type: v as 'bar' } })}
                allowDeselect={false}
              />
            </Group>
            <MultiSelect
              label="Group by (up to 3)"
              data={usable()}
              value={def.groupBy}
              onChange={(groupBy) => update({ groupBy })}
              maxValues={3}
              searchable
            />
            <MultiSelect
              label="Sort by (up to 3, ascending)"
              data={usable()}
              value={def.sort.map((s) => s.field)}
              onChange={(fields) => update({ sort: fields.map((field) => ({ field, desc: false })) })}
              maxValues={3}
              searchable
            />
          </SimpleGrid>
          <Title order={5} mt="md">
            Totals
          </Title>
          <EditableRows
            items={def.aggregates}
            row={(a, i) => (
              <>
                <Select
                  aria-label={`Calculation ${i + 1}`}
                  data={['count', 'sum', 'avg', 'min', 'max']}
                  value={a.fn}
                  onChange={(fn) =>
                    update({
                      aggregates: replaceAt(def.aggregates, i, (x) => ({
                        ...x,
                        fn: (fn ?? 'count') as 'count',
                      })),
                    })
                  }
                  w={110}
                  allowDeselect={false}
                />
                <Select
                  aria-label={`Field of calculation ${i + 1}`}
                  placeholder={a.fn === 'count' ? `records of ${def.primary}` : 'a number field'}
                  data={usable(
                    a.fn === 'count'
                      ? undefined
                      : (t) =>
                          NUMERIC_TYPES.has(t) ||
                          (a.fn !== 'sum' && a.fn !== 'avg' && (t === 'date' || t === 'datetime')),
                  )}
                  value={a.field ?? null}
                  onChange={(field) =>
                    update({
                      aggregates: replaceAt(def.aggregates, i, (x) => ({
                        fn: x.fn,
                        ...(field ? { field } : {}),
                      })),
                    })
                  }
                  clearable={a.fn === 'count'}
                  searchable
                  w={320}
                />
              </>
            )}
            removeLabel={(i) => `Remove calculation ${i + 1}`}
            onRemove={(i) => update({ aggregates: def.aggregates.filter((_, j) => j !== i) })}
            addLabel="Add a total"
            onAdd={() => update({ aggregates: [...def.aggregates, { fn: 'count' }] })}
          />
          <Group mt="md" justify="space-between">
            <Title order={5}>Filters</Title>
            <SegmentedControl
              size="xs"
              value={match}
              onChange={(v) => setMatch(v as 'and' | 'or')}
              data={MATCHES}
            />
          </Group>
          <EditableRows
            items={conditions}
            row={(c, i) => (
              <>
                <Select
                  aria-label={`Filter field ${i + 1}`}
                  data={usable()}
                  value={c.field}
                  onChange={(field) =>
                    setConditions((cs) => replaceAt(cs, i, (x) => ({ ...x, field: field ?? '' })))
                  }
                  searchable
                  w={280}
                />
                <Select
                  aria-label={`Filter operator ${i + 1}`}
                  data={OPS}
                  value={c.op}
                  onChange={(op) =>
                    setConditions((cs) => replaceAt(cs, i, (x) => ({ ...x, op: op ?? 'eq' })))
                  }
                  w={170}
                  allowDeselect={false}
                />
                {c.op === 'period' ? (
                  <Select
                    aria-label={`Filter period ${i + 1}`}
                    data={PERIODS}
                    value={typeof c.value === 'string' ? c.value : null}
                    onChange={(value) => setConditions((cs) => replaceAt(cs, i, (x) => ({ ...x, value })))}
                    w={180}
                  />
                ) : (
                  <TextInput
                    aria-label={`Filter value ${i + 1}`}
                    value={String(c.value ?? '')}
                    onChange={(e) => {
                      const value = e.currentTarget.value;
                      setConditions((cs) => replaceAt(cs, i, (x) => ({ ...x, value })));
                    }}
                    w={200}
                  />
                )}
              </>
            )}
            removeLabel={(i) => `Remove filter ${i + 1}`}
            onRemove={(i) => setConditions((cs) => cs.filter((_, j) => j !== i))}
            addLabel="Add a filter"
            onAdd={() => setConditions((cs) => [...cs, { field: `${def.primary}.id`, op: 'eq', value: '' }])}
          />
          <Group mt="lg">
            <Button onClick={() => void runNow()} loading={busy} leftSection={<IconPlayerPlay size={16} />}>
              Run
            </Button>
            {(!initial || initial.editable) && (
              <Button variant="default" onClick={() => void save()} loading={busy} disabled={!name.trim()}>
                Save
              </Button>
            )}
          </Group>
          {(!initial || initial.editable) && (
            <Stack mt="md" gap={4}>
              <SharingFields value={sharing} onChange={setSharing} />
              <Text size="xs" c="dimmed">
                What is shared is the definition: everyone who opens it sees the rows their own sharing and
                masking allow.
              </Text>
            </Stack>
          )}
        </Paper>
        {initial?.editable && <SchedulesPanel report={initial} />}
        <ErrorAlert error={error} title="The report cannot run" />
        {result && <ReportOutput def={def} result={result} />}
      </Stack>
    </>
  );
}

function show(v: Cell | undefined): string {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'number') return v.toLocaleString(undefined, { maximumFractionDigits: 2 });
  return v;
}

function ReportOutput({ def, result }: { def: ReportDefinition; result: ReportResult }) {
  const level1 = result.groups.filter((g) => g.level === 1);
  const measure = result.aggregates[0];
  const chartData = level1.map((g) => ({
    name: show(g.keys[0]),
    value: typeof g.values[0] === 'number' ? g.values[0] : g.records,
  }));
  const seriesLabel = measure?.label ?? 'Records';
  return (
    <Stack>
      {result.rowsPer && (
        <Alert
          icon={<IconInfoCircle />}
          color="blue"
          variant="light"
          title={`One row per ${result.rowsPer} record`}
        >
          A column from {result.rowsPer} is shown, so each {def.primary} record appears once per related row.
          Totals still count each {def.primary} amount once.
        </Alert>
      )}
      {def.chart && chartData.length > 0 && (
        <Paper withBorder p="md" data-testid="report-chart">
          <Text fw={500} mb="sm">
            {seriesLabel} by {result.groupBy[0]?.label}
          </Text>
          {def.chart.type === 'pie' ? (
            <PieChart
              data={chartData.map((d, i) => ({ ...d, color: `${PALETTE[i % PALETTE.length]}.6` }))}
              withLabelsLine
              labelsType="value"
              withLabels
              withTooltip
              size={240}
            />
          ) : def.chart.type === 'line' ? (
            <LineChart
              h={260}
              data={chartData}
              dataKey="name"
              series={[{ name: 'value', label: seriesLabel, color: 'indigo.6' }]}
            />
          ) : (
            <BarChart
              h={260}
              data={chartData}
              dataKey="name"
              orientation={def.chart.type === 'hbar' ? 'vertical' : 'horizontal'}
              series={[{ name: 'value', label: seriesLabel, color: 'indigo.6' }]}
            />
          )}
        </Paper>
      )}
      {def.type === 'matrix' && result.groupBy.length >= 2 ? (
        <Matrix result={result} />
      ) : (
        result.groups.length > 0 && (
          <Paper withBorder>
            <Table striped data-testid="report-groups">
              <Table.Thead>
                <Table.Tr>
                  {result.groupBy.map((g) => (
                    <Table.Th key={g.key}>{g.label}</Table.Th>
                  ))}
                  <Table.Th>Records</Table.Th>
                  {result.aggregates.map((a) => (
                    <Table.Th key={a.key}>{a.label}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {sortedGroups(result).map((g) => (
                  <Table.Tr
                    key={`${g.level}:${JSON.stringify(g.keys)}`}
                    fw={g.level < result.groupBy.length ? 600 : undefined}
                  >
                    {result.groupBy.map((c, i) => (
                      <Table.Td key={c.key}>{i === g.level - 1 ? show(g.keys[i]) : ''}</Table.Td>
                    ))}
                    <Table.Td>{g.records}</Table.Td>
                    {g.values.map((v, i) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: aggregates are positional
                      <Table.Td key={i}>{show(v)}</Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
        )
      )}
      {result.totals.length > 0 && (
        <Paper withBorder p="md" data-testid="report-totals">
          <Group>
            {result.aggregates.map((a, i) => (
              <Text key={a.key}>
                <b>{a.label}:</b> {show(result.totals[i])}
              </Text>
            ))}
          </Group>
        </Paper>
      )}
      {result.columns.length > 0 && (
        <Paper withBorder>
          <Text size="sm" c="dimmed" p="sm">
            Showing {result.rows.length.toLocaleString()} of {result.totalRows.toLocaleString()} rows
            {result.rowsPer ? ` (${result.totalRecords.toLocaleString()} ${def.primary} records)` : ''}.
            Export CSV for every row.
          </Text>
          <Table.ScrollContainer minWidth={600}>
            <Table striped data-testid="report-rows">
              <Table.Thead>
                <Table.Tr>
                  {result.columns.map((c) => (
                    <Table.Th key={c.key}>{c.label}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.rows.map((row, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a row's position is its identity here
                  <Table.Tr key={i}>
                    {row.map((v, j) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
                      <Table.Td key={j}>{show(v)}</Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
    </Stack>
  );
}

/** Groups in reading order: each subtotal row above the groups inside it. */
function sortedGroups(result: ReportResult) {
  const out: ReportResult['groups'] = [];
  const deepest = result.groupBy.length;
  const add = (prefix: Cell[], level: number) => {
    for (const g of result.groups) {
      if (g.level !== level || JSON.stringify(g.keys.slice(0, level - 1)) !== JSON.stringify(prefix))
        continue;
      out.push(g);
      if (level < deepest) add(g.keys, level + 1);
    }
  };
  add([], 1);
  return out;
}

function Matrix({ result }: { result: ReportResult }) {
  const cells = result.groups.filter((g) => g.level === 2);
  const rows = result.groups.filter((g) => g.level === 1).map((g) => g.keys[0] ?? null);
  const cols = [
    ...new Map(cells.map((g) => [JSON.stringify(g.keys[1] ?? null), g.keys[1] ?? null])).values(),
  ];
  const value = (g: ReportResult['groups'][number] | undefined) => (g ? show(g.values[0] ?? g.records) : '');
  return (
    <Paper withBorder>
      <Table striped withColumnBorders data-testid="report-matrix">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>
              {result.groupBy[0]?.label} \ {result.groupBy[1]?.label}
            </Table.Th>
            {cols.map((c) => (
              <Table.Th key={JSON.stringify(c)}>{show(c)}</Table.Th>
            ))}
            <Table.Th>Total</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={JSON.stringify(r)}>
              <Table.Td fw={600}>{show(r)}</Table.Td>
              {cols.map((c) => (
                <Table.Td key={JSON.stringify(c)}>
                  {value(cells.find((g) => JSON.stringify(g.keys) === JSON.stringify([r, c])))}
                </Table.Td>
              ))}
              <Table.Td fw={600}>
                {value(
                  result.groups.find((g) => g.level === 1 && JSON.stringify(g.keys) === JSON.stringify([r])),
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

const PALETTE = ['indigo', 'teal', 'orange', 'grape', 'cyan', 'lime', 'pink', 'yellow', 'blue', 'red'];
