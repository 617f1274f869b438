import { Button, Group, Paper, Select, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import type { SharingAccess } from '../../api/types';
import { useApi } from '../../api/use-api';
import { useSubmit } from '../../api/use-submit';
import { ErrorAlert } from '../../components/error-alert';
import { SectionLoader } from '../../components/loading-state';
import { useSession } from '../../session/session-context';
import { ROLE_MODULES } from './role-modules';

type Defaults = Partial<Record<string, SharingAccess>>;

const ACCESS: Array<{ value: SharingAccess; label: string }> = [
  { value: 'private', label: 'Private: owner and the roles above' },
  { value: 'public_read', label: 'Public: everyone can see' },
  { value: 'public_read_write', label: 'Public: everyone can see and edit' },
];

/** Organisation-wide sharing default per module (Vtiger's sharing access), saved together. */
export function SharingPanel() {
  const defaults = useApi<Defaults>('sharing-defaults');
  return (
    <>
      <ErrorAlert
        error={defaults.error}
        title="The sharing defaults cannot be shown"
        onRetry={defaults.reload}
      />
      {defaults.loading && !defaults.data && <SectionLoader label="Loading sharing defaults" />}
      {defaults.data && <SharingForm initial={defaults.data} onSaved={defaults.setData} />}
    </>
  );
}

function SharingForm({ initial, onSaved }: { initial: Defaults; onSaved: (d: Defaults) => void }) {
  const { api } = useSession();
  const [form, setForm] = useState<Defaults>(initial);
  const changed = ROLE_MODULES.filter((m) => form[m.value] !== initial[m.value]);

  const {
    submit: save,
    busy,
    error,
  } = useSubmit(
    () =>
      api.put<Defaults>('sharing-defaults', Object.fromEntries(changed.map((m) => [m.value, form[m.value]]))),
    {
      success: 'The sharing defaults are saved.',
      onDone: (saved) => {
        onSaved(saved);
        setForm(saved);
      },
    },
  );

  return (
    <Paper withBorder p="md" maw={880}>
      <Stack>
        <Text size="sm">
          Who sees a record besides its owner and the roles above the owner. Profiles still decide whether a
          user may open the module at all.
        </Text>
        <Table aria-label="Sharing defaults" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Module</Table.Th>
              <Table.Th>Default access</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {ROLE_MODULES.map((m) => (
              <Table.Tr key={m.value}>
                <Table.Td>{m.label}</Table.Td>
                <Table.Td>
                  <Select
                    aria-label={`Default access to ${m.label}`}
                    allowDeselect={false}
                    data={ACCESS}
                    value={form[m.value] ?? 'private'}
                    onChange={(v) => setForm((f) => ({ ...f, [m.value]: (v ?? 'private') as SharingAccess }))}
                    w={340}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <ErrorAlert error={error} title="The sharing defaults were not saved" />
        <Group justify="flex-end">
          <Button onClick={() => void save()} loading={busy} disabled={changed.length === 0}>
            Save sharing defaults
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
