import { Badge, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useSession } from '../session/session-context';

interface Step {
  key: string;
  title?: string;
  label?: string;
  description?: string;
  status: string;
  notes?: string | null;
}

/** The pilot implementation guide from the seeds, when the server has none yet. */
const GUIDE: Step[] = [
  {
    key: 'team',
    title: 'Identify a team',
    description: 'Pick the people who configure and pilot the CRM.',
    status: 'todo',
  },
  {
    key: 'scope',
    title: 'Decide the scope',
    description: 'Which processes, modules and integrations come first.',
    status: 'todo',
  },
  {
    key: 'flow',
    title: 'Design the flow',
    description: 'Draw how records move from lead to customer.',
    status: 'todo',
  },
  {
    key: 'configure',
    title: 'Configure the CRM',
    description: 'Users, roles, fields, API access and webhooks.',
    status: 'todo',
  },
  {
    key: 'test',
    title: 'Test the configuration',
    description: 'Walk real cases through with the pilot team.',
    status: 'todo',
  },
];

export function SetupChecklistPage() {
  const { can } = useSession();
  const list = useApi<{ items?: Step[]; steps?: Step[] }>(can('setupChecklist') ? 'setup-checklist' : null);
  const steps = list.data?.items ?? list.data?.steps ?? (can('setupChecklist') ? [] : GUIDE);
  return (
    <>
      <PageHeader
        title="Setup checklist"
        description="The steps to take a pilot to a working CRM."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Setup checklist' }]}
      />
      <ErrorAlert error={list.error} title="The checklist cannot be shown" onRetry={list.reload} />
      {list.loading && <SectionLoader label="Loading the checklist" />}
      <Stack maw={720}>
        {steps.map((s, i) => (
          <Card withBorder key={s.key} padding="md">
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <div>
                <Title order={2} size="h5">
                  {i + 1}. {s.title ?? s.label ?? s.key}
                </Title>
                {s.description && (
                  <Text size="sm" c="dimmed">
                    {s.description}
                  </Text>
                )}
                {s.notes && <Text size="sm">{s.notes}</Text>}
              </div>
              <Badge
                color={s.status === 'done' ? 'green' : s.status === 'todo' ? 'gray' : 'blue'}
                variant="light"
              >
                {s.status === 'done' ? 'Done' : s.status === 'todo' ? 'To do' : s.status.replace(/_/g, ' ')}
              </Badge>
            </Group>
          </Card>
        ))}
      </Stack>
    </>
  );
}
