import { Badge, Button, Card, Group, Progress, Select, Stack, Text, Textarea, Title } from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime } from '../format';
import { useMe, useSession } from '../session/session-context';

interface Step {
  key: string;
  title: string;
  description: string;
  status: string;
  notes: string;
  updatedBy: { id: number; username: string } | null;
  updatedAt: string | null;
}
interface Checklist {
  steps: Step[];
  completed: number;
  total: number;
}

const STATUSES = [
  { value: 'not_started', label: 'Not started', color: 'gray' },
  { value: 'in_progress', label: 'In progress', color: 'blue' },
  { value: 'done', label: 'Done', color: 'green' },
  { value: 'skipped', label: 'Skipped', color: 'yellow' },
];

/** The pilot implementation guide from the seeds: identify a team, decide scope, design, configure, test. */
export function SetupChecklistPage() {
  const { can } = useSession();
  const list = useApi<Checklist>(can('setupChecklist') ? 'setup-checklist' : null);
  const data = list.data;
  return (
    <>
      <PageHeader
        title="Setup checklist"
        description="The steps that take a pilot to a working CRM. Record where each one stands and what was decided."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Setup checklist' }]}
      />
      {!can('setupChecklist') && <Text c="dimmed">This server does not track a setup checklist yet.</Text>}
      <ErrorAlert error={list.error} title="The checklist cannot be shown" onRetry={list.reload} />
      {list.loading && !data && <SectionLoader label="Loading the checklist" />}
      {data && (
        <Stack maw={760}>
          <div>
            <Text size="sm" mb={4}>
              {data.completed} of {data.total} steps done or skipped
            </Text>
            <Progress
              value={(100 * data.completed) / Math.max(1, data.total)}
              aria-label="Checklist progress"
            />
          </div>
          {data.steps.map((s, i) => (
            <StepCard key={`${s.key}-${s.updatedAt}`} step={s} index={i} onSaved={list.setData} />
          ))}
        </Stack>
      )}
    </>
  );
}

function StepCard({ step, index, onSaved }: { step: Step; index: number; onSaved: (c: Checklist) => void }) {
  const me = useMe();
  const { api } = useSession();
  const [status, setStatus] = useState(step.status);
  const [notes, setNotes] = useState(step.notes);
  const dirty = status !== step.status || notes !== step.notes;
  const shown = STATUSES.find((s) => s.value === step.status);

  // a saved step is shown anew (its key has the new time), so the button stays busy until then
  const {
    submit: save,
    busy,
    error,
  } = useSubmit(
    async () =>
      onSaved(await api.patch<Checklist>('setup-checklist', { steps: [{ key: step.key, status, notes }] })),
    { success: `“${step.title}” is saved.`, keepBusy: true },
  );

  return (
    <Card withBorder padding="md" component="section" aria-labelledby={`step-${step.key}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <div>
            <Title order={2} size="h5" id={`step-${step.key}`}>
              {index + 1}. {step.title}
            </Title>
            <Text size="sm" c="dimmed">
              {step.description}
            </Text>
          </div>
          <Badge color={shown?.color} variant="light" style={{ flexShrink: 0 }}>
            {shown?.label ?? step.status}
          </Badge>
        </Group>
        <Group align="flex-end" wrap="wrap">
          <Select
            label="Status"
            data={STATUSES}
            value={status}
            onChange={(v) => setStatus(v ?? status)}
            allowDeselect={false}
            w={180}
          />
          <Textarea
            label="Notes"
            autosize
            minRows={1}
            value={notes}
            onChange={(e) => setNotes(e.currentTarget.value)}
            style={{ flex: '1 1 280px' }}
          />
          <Button onClick={() => void save()} loading={busy} disabled={!dirty}>
            Save
          </Button>
        </Group>
        {step.updatedBy && (
          <Text size="xs" c="dimmed">
            Last changed by {step.updatedBy.username} on {formatTime(step.updatedAt, me.user)}
          </Text>
        )}
        <ErrorAlert error={error} />
      </Stack>
    </Card>
  );
}
