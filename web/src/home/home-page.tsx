import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatAmount, formatDate, formatTime } from '../format';
import { useNavModules } from '../layout/main-nav';
import type { ModuleSummary, RecordPage, RestRecord } from '../records/record-types';
import { useMe } from '../session/session-context';

const LIMIT = 8;
const CLOSED_STAGES = ['Closed Won', 'Closed Lost'];
/** Modules whose recent records are listed (the ones a sales team works in). */
const RECENT = ['Contacts', 'Accounts', 'Leads', 'Potentials', 'Quotes', 'HelpDesk'];

/** Where a signed-in user lands: their open deals and tickets and the records they changed last. */
export function HomePage() {
  const me = useMe();
  const modules = useNavModules();
  const has = (name: string) => modules.some((m) => m.name === name);
  const mine = `filter[assigned_user_id][eq]=${me.user.id}`;
  const deals = useApi<RecordPage>(
    has('Potentials')
      ? `records/Potentials?${mine}&${CLOSED_STAGES.map((s) => `filter[sales_stage][ne]=${encodeURIComponent(s)}`).join('&')}&sort=closingdate&limit=${LIMIT}&count=true`
      : null,
  );
  const tickets = useApi<RecordPage>(
    has('HelpDesk')
      ? `records/HelpDesk?${mine}&filter[ticketstatus][ne]=Closed&sort=-modifiedtime&limit=${LIMIT}&count=true`
      : null,
  );
  const firstName = me.user.firstName || me.user.username;
  return (
    <>
      <PageHeader
        title="Home"
        description={`Welcome back, ${firstName}. Your open work and latest records.`}
      />
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        {has('Potentials') && (
          <Panel
            title="My open deals"
            total={deals.data?.total}
            allLink={`/records/Potentials?owner=me&${CLOSED_STAGES.map((s) => `f=${encodeURIComponent(`sales_stage:ne:${s}`)}`).join('&')}`}
            query={deals}
            empty="You have no open deals."
            render={(r) => (
              <Row
                key={r.id}
                to={`/records/Potentials/${r.id}`}
                label={r.label}
                aside={
                  <>
                    {r.amount != null && (
                      <Text size="sm">{formatAmount(r.amount as number, me.user.language)}</Text>
                    )}
                    <Badge variant="light" color="indigo">
                      {String(r.sales_stage ?? '')}
                    </Badge>
                  </>
                }
                detail={
                  r.closingdate
                    ? `Closes ${formatDate(String(r.closingdate), me.user.dateFormat)}`
                    : undefined
                }
              />
            )}
          />
        )}
        {has('HelpDesk') && (
          <Panel
            title="My open tickets"
            total={tickets.data?.total}
            allLink={`/records/HelpDesk?owner=me&f=${encodeURIComponent('ticketstatus:ne:Closed')}`}
            query={tickets}
            empty="You have no open tickets."
            render={(r) => (
              <Row
                key={r.id}
                to={`/records/HelpDesk/${r.id}`}
                label={r.label}
                aside={
                  <Badge variant="light" color={r.ticketpriorities === 'Urgent' ? 'red' : 'gray'}>
                    {String(r.ticketstatus ?? '')}
                  </Badge>
                }
                detail={r.ticketpriorities ? `Priority ${String(r.ticketpriorities)}` : undefined}
              />
            )}
          />
        )}
      </SimpleGrid>
      <RecentRecords modules={modules.filter((m) => RECENT.includes(m.name))} />
    </>
  );
}

function Panel({
  title,
  total,
  allLink,
  query,
  empty,
  render,
}: {
  title: string;
  total?: number;
  allLink: string;
  query: ReturnType<typeof useApi<RecordPage>>;
  empty: string;
  render: (r: RestRecord) => ReactNode;
}) {
  const items = query.data?.items ?? [];
  return (
    <Card withBorder padding="lg" component="section" aria-label={title}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          {title}
          {total !== undefined && (
            <Text span c="dimmed" size="sm" ml={6}>
              ({total})
            </Text>
          )}
        </Title>
        <Anchor component={Link} to={allLink} size="sm">
          View all
        </Anchor>
      </Group>
      <ErrorAlert error={query.error} title={`${title} cannot be shown`} onRetry={query.reload} />
      {query.loading && !query.data && <SectionLoader label={`Loading ${title.toLowerCase()}`} />}
      {query.data && items.length === 0 && <Text c="dimmed">{empty}</Text>}
      <Stack gap="xs">{items.map(render)}</Stack>
    </Card>
  );
}

function Row({
  to,
  label,
  aside,
  detail,
}: {
  to: string;
  label: string;
  aside?: ReactNode;
  detail?: string;
}) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="sm">
      <div style={{ minWidth: 0 }}>
        <Anchor component={Link} to={to} fw={500} style={{ wordBreak: 'break-word' }}>
          {label || 'Untitled'}
        </Anchor>
        {detail && (
          <Text size="xs" c="dimmed">
            {detail}
          </Text>
        )}
      </div>
      <Group gap="xs" wrap="nowrap">
        {aside}
      </Group>
    </Group>
  );
}

/** The records the user changed last, across the sales modules, newest first. */
function RecentRecords({ modules }: { modules: ModuleSummary[] }) {
  const me = useMe();
  return (
    <Card withBorder padding="lg" mt="lg" component="section" aria-label="Recently changed by me">
      <Title order={2} size="h4" mb="sm">
        Recently changed by me
      </Title>
      <RecentList modules={modules} userId={me.user.id} />
    </Card>
  );
}

function RecentList({ modules, userId }: { modules: ModuleSummary[]; userId: number }) {
  const me = useMe();
  // one query per module (hooks in a fixed order: the module list is stable once loaded)
  const q = (name: string) =>
    modules.some((m) => m.name === name)
      ? `records/${name}?filter[modifiedby][eq]=${userId}&sort=-modifiedtime&limit=5`
      : null;
  const queries = [
    useApi<RecordPage>(q('Contacts')),
    useApi<RecordPage>(q('Accounts')),
    useApi<RecordPage>(q('Leads')),
    useApi<RecordPage>(q('Potentials')),
    useApi<RecordPage>(q('Quotes')),
    useApi<RecordPage>(q('HelpDesk')),
  ];
  const results = RECENT.map((name, i) => ({ name, query: queries[i]! }));
  const loading = results.some((r) => r.query.loading);
  const rows = results
    .flatMap(({ name, query }) => (query.data?.items ?? []).map((r) => ({ module: name, r })))
    .sort((a, b) => String(b.r.modifiedtime).localeCompare(String(a.r.modifiedtime)))
    .slice(0, 10);
  const label = (name: string) => modules.find((m) => m.name === name)?.singular ?? name;
  if (loading && rows.length === 0) return <SectionLoader label="Loading recent records" />;
  if (rows.length === 0) return <Text c="dimmed">Records you create or change show here.</Text>;
  return (
    <Stack gap="xs">
      {rows.map(({ module, r }) => (
        <Row
          key={`${module}-${r.id}`}
          to={`/records/${module}/${r.id}`}
          label={r.label}
          detail={`${label(module)} · changed ${formatTime(r.modifiedtime as string, me.user)}`}
        />
      ))}
    </Stack>
  );
}
