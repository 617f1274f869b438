import { ActionIcon, Button, Group, MultiSelect, Stack } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { ReportDefinition, SavedReport } from './report-types';

export interface Choice {
  value: string;
  label: string;
}

/** A Select's options from `{ value: label }`, in the order written. */
export const choices = (labels: Record<string, string>): Choice[] =>
  Object.entries(labels).map(([value, label]) => ({ value, label }));

export const REPORT_TYPES = choices({
  detail: 'Detail (rows)',
  summary: 'Summary (groups and subtotals)',
  matrix: 'Matrix (rows × columns)',
} satisfies Record<ReportDefinition['type'], string>);

export const CHARTS = choices({
  none: 'No chart',
  bar: 'Bar',
  hbar: 'Horizontal bar',
  line: 'Line',
  pie: 'Pie',
} satisfies Record<NonNullable<ReportDefinition['chart']>['type'] | 'none', string>);

export const MATCHES = choices({ and: 'All conditions', or: 'Any condition' });

export const OPS = choices({
  eq: 'is',
  ne: 'is not',
  lt: 'less than',
  gt: 'greater than',
  contains: 'contains',
  startswith: 'starts with',
  empty: 'is empty (true/false)',
  period: 'in period',
});

export const VISIBILITY = choices({
  private: 'Only me',
  shared: 'Chosen users and roles',
  public: 'Everyone',
} satisfies Record<SavedReport['visibility'], string>);

export const FREQUENCIES = choices({ daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly', once: 'Once' });

/** `list` with the item at `index` replaced by `change(item)`. */
export const replaceAt = <T,>(list: T[], index: number, change: (item: T) => T): T[] =>
  list.map((item, j) => (j === index ? change(item) : item));

/** Rows of inputs that have no identity but their position: each with a remove button, and an add button. */
export function EditableRows<T>({
  items,
  row,
  removeLabel,
  onRemove,
  addLabel,
  onAdd,
}: {
  items: T[];
  row: (item: T, index: number) => ReactNode;
  /** the remove button's accessible name, e.g. `Remove filter 2` */
  removeLabel: (index: number) => string;
  onRemove: (index: number) => void;
  addLabel: string;
  onAdd: () => void;
}) {
  return (
    <Stack gap="xs">
      {items.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their position
        <Group key={i} align="end">
          {row(item, i)}
          <ActionIcon variant="subtle" color="red" aria-label={removeLabel(i)} onClick={() => onRemove(i)}>
            <IconTrash size={16} />
          </ActionIcon>
        </Group>
      ))}
      <Button variant="light" size="xs" w="fit-content" leftSection={<IconPlus size={14} />} onClick={onAdd}>
        {addLabel}
      </Button>
    </Stack>
  );
}

/** Users and (when there are roles to pick from) roles, as two searchable multi-selects of ids. */
export function PeoplePicker({
  people,
  userIds,
  roleIds,
  onUsers,
  onRoles,
  rolesWidth = 260,
}: {
  people: { users: Choice[]; roles: Choice[] };
  userIds: string[];
  roleIds: string[];
  onUsers: (ids: string[]) => void;
  onRoles: (ids: string[]) => void;
  rolesWidth?: number;
}) {
  return (
    <>
      <MultiSelect label="Users" data={people.users} value={userIds} onChange={onUsers} searchable w={260} />
      {people.roles.length > 0 && (
        <MultiSelect
          label="Roles"
          data={people.roles}
          value={roleIds}
          onChange={onRoles}
          searchable
          w={rolesWidth}
        />
      )}
    </>
  );
}
