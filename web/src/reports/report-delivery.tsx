import {
  Button,
  Chip,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import type { Page, Role, UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { useActions } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useMe, useSession } from '../session/session-context';
import { FREQUENCIES, PeoplePicker, VISIBILITY } from './report-fields';
import type { SavedReport } from './report-types';

export interface Sharing {
  visibility: SavedReport['visibility'];
  sharedUserIds: number[];
  sharedRoleIds: number[];
}

const userName = (u: UserView) => `${u.firstName} ${u.lastName}`.trim() || u.username;

/** Users and (for admins, who may list roles) roles to pick from. */
function usePeople() {
  const me = useMe();
  const users = useApi<Page<UserView>>('users?status=Active&limit=200');
  const roles = useApi<{ items: Role[] }>(me.user.isAdmin ? 'roles' : null);
  return {
    users: (users.data?.items ?? []).map((u) => ({ value: String(u.id), label: userName(u) })),
    roles: (roles.data?.items ?? []).map((r) => ({ value: String(r.id), label: r.name })),
  };
}

/** Who may open a saved report: only its owner, chosen users and roles, or everyone. */
export function SharingFields({ value, onChange }: { value: Sharing; onChange: (s: Sharing) => void }) {
  const people = usePeople();
  return (
    <Group align="flex-end">
      <Select
        label="Who may open it"
        data={VISIBILITY}
        value={value.visibility}
        onChange={(v) => v && onChange({ ...value, visibility: v as Sharing['visibility'] })}
        w={220}
        allowDeselect={false}
      />
      {value.visibility === 'shared' && (
        <PeoplePicker
          people={people}
          userIds={value.sharedUserIds.map(String)}
          roleIds={value.sharedRoleIds.map(String)}
          onUsers={(v) => onChange({ ...value, sharedUserIds: v.map(Number) })}
          onRoles={(v) => onChange({ ...value, sharedRoleIds: v.map(Number) })}
        />
      )}
    </Group>
  );
}

interface Schedule {
  id: number;
  frequency: 'daily' | 'weekly' | 'monthly' | 'once';
  weekdays: number[];
  dayOfMonth: number | null;
  onDate: string | null;
  timeUtc: string;
  recipientUserIds: number[];
  recipientRoleIds: number[];
  recipientEmails: string[];
  enabled: boolean;
  nextRunAt: string | null;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function when(s: Schedule): string {
  const at = `at ${s.timeUtc} UTC`;
  if (s.frequency === 'daily') return `Every day ${at}`;
  if (s.frequency === 'weekly') return `Every ${s.weekdays.map((d) => DAYS[d]).join(', ')} ${at}`;
  if (s.frequency === 'monthly') return `Monthly on day ${s.dayOfMonth} ${at}`;
  return `On ${s.onDate} ${at}`;
}

/**
 * The report's mail schedules (its owner or an admin): each user recipient gets the report as they would see
 * it, outside addresses as the owner sees it; empty results are not sent.
 */
export function SchedulesPanel({ report }: { report: SavedReport }) {
  const { api } = useSession();
  const people = usePeople();
  const list = useApi<{ items: Schedule[] }>(`reports/${report.id}/schedules`);
  const [frequency, setFrequency] = useState<Schedule['frequency']>('weekly');
  const [weekdays, setWeekdays] = useState<string[]>(['1']);
  const [dayOfMonth, setDayOfMonth] = useState<number>(1);
  const [onDate, setOnDate] = useState('');
  const [timeUtc, setTimeUtc] = useState('08:00');
  const [userIds, setUserIds] = useState<string[]>([]);
  const [roleIds, setRoleIds] = useState<string[]>([]);
  const [emails, setEmails] = useState<string[]>([]);
  const { run, busy, error } = useActions();
  const name = (data: Array<{ value: string; label: string }>, id: number) =>
    data.find((d) => d.value === String(id))?.label ?? `#${id}`;

  const add = () =>
    run(async () => {
      await api.post(`reports/${report.id}/schedules`, {
        frequency,
        timeUtc,
        ...(frequency === 'weekly' ? { weekdays: weekdays.map(Number) } : {}),
        ...(frequency === 'monthly' ? { dayOfMonth } : {}),
        ...(frequency === 'once' ? { onDate } : {}),
        recipientUserIds: userIds.map(Number),
        recipientRoleIds: roleIds.map(Number),
        recipientEmails: emails,
      });
      setUserIds([]);
      setRoleIds([]);
      setEmails([]);
      list.reload();
      return 'The report will be mailed on schedule.';
    });
  const remove = (s: Schedule) =>
    run(async () => {
      await api.del(`reports/${report.id}/schedules/${s.id}`);
      list.reload();
    });

  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb={4}>
        Schedules
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Mail this report as CSV. Each user gets it as they would see it (their sharing and masking); outside
        addresses get it as you see it. Empty results are not sent.
      </Text>
      <ErrorAlert error={list.error} title="Schedules cannot be loaded" onRetry={list.reload} />
      {(list.data?.items.length ?? 0) > 0 && (
        <Table mb="md">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>To</Table.Th>
              <Table.Th>Next</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data?.items.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>{when(s)}</Table.Td>
                <Table.Td>
                  {[
                    ...s.recipientUserIds.map((id) => name(people.users, id)),
                    ...s.recipientRoleIds.map((id) => `role ${name(people.roles, id)}`),
                    ...s.recipientEmails,
                  ].join(', ')}
                </Table.Td>
                <Table.Td>{s.nextRunAt ? new Date(s.nextRunAt).toLocaleString() : 'done'}</Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    variant="light"
                    color="red"
                    leftSection={<IconTrash size={14} />}
                    onClick={() => remove(s)}
                  >
                    Stop
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Stack gap="xs">
        <Group align="flex-end">
          <Select
            label="How often"
            data={FREQUENCIES}
            value={frequency}
            onChange={(v) => v && setFrequency(v as Schedule['frequency'])}
            allowDeselect={false}
            w={140}
          />
          {frequency === 'weekly' && (
            <Chip.Group multiple value={weekdays} onChange={setWeekdays}>
              <Group gap={4}>
                {DAYS.map((d, i) => (
                  <Chip key={d} value={String(i)} size="xs">
                    {d}
                  </Chip>
                ))}
              </Group>
            </Chip.Group>
          )}
          {frequency === 'monthly' && (
            <NumberInput
              label="Day of the month"
              min={1}
              max={31}
              value={dayOfMonth}
              onChange={(v) => setDayOfMonth(Number(v) || 1)}
              w={140}
            />
          )}
          {frequency === 'once' && (
            <TextInput
              label="Date"
              type="date"
              value={onDate}
              onChange={(e) => setOnDate(e.currentTarget.value)}
            />
          )}
          <TextInput
            label="Time (UTC)"
            type="time"
            value={timeUtc}
            onChange={(e) => setTimeUtc(e.currentTarget.value)}
            w={150}
          />
        </Group>
        <Group align="flex-end">
          <PeoplePicker
            people={people}
            userIds={userIds}
            roleIds={roleIds}
            onUsers={setUserIds}
            onRoles={setRoleIds}
            rolesWidth={220}
          />
          <TagsInput
            label="Email addresses"
            placeholder="Type and press Enter"
            value={emails}
            onChange={setEmails}
            w={280}
          />
          <Button onClick={() => void add()} loading={busy}>
            Add schedule
          </Button>
        </Group>
        <ErrorAlert error={error} title="The schedule was not saved" />
      </Stack>
    </Paper>
  );
}
