import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  List,
  Modal,
  MultiSelect,
  NumberInput,
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
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconEyeOff, IconPlus } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import type { Role } from '../api/types';
import { asApiError, useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { ConfirmModal } from '../components/confirm-modal';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useSession } from '../session/session-context';

type Kind = 'phone' | 'email' | 'text';

interface MaskingRule {
  id: number;
  module: string;
  field: string;
  level: 'module' | 'role';
  roleIds: number[];
  includeSubordinates: boolean;
  keepFirst: number;
  keepLast: number;
}

interface MaskableField {
  name: string;
  label: string;
  type: string;
  custom: boolean;
  maskKind: Kind | null;
  notMaskableReason: string | null;
  ruleId: number | null;
}

interface FieldsAnswer {
  padding: string;
  maxKeep: number;
  modules: Array<{ name: string; label: string; fields: MaskableField[] }>;
}

interface Profile {
  id: number;
  name: string;
}

const SAMPLES: Record<Kind, string> = {
  phone: '+1 555-123-4567',
  email: 'jane.doe@example.com',
  text: 'Chief Financial Officer',
};

/** Settings → Masking: which fields are masked, for whom, how, and who may reveal a value. */
export function MaskingPage() {
  const rules = useApi<{ items: MaskingRule[] }>('masking/rules');
  const fields = useApi<FieldsAnswer>('masking/fields');
  const roles = useApi<{ items: Role[] }>('roles');
  const [editing, setEditing] = useState<MaskingRule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<MaskingRule | null>(null);
  const { api } = useSession();
  const reload = () => {
    rules.reload();
    fields.reload();
  };
  const fieldOf = (r: MaskingRule) =>
    fields.data?.modules.find((m) => m.name === r.module)?.fields.find((f) => f.name === r.field);
  const roleName = (id: number) => roles.data?.items.find((r) => r.id === id)?.name ?? `Role ${id}`;

  return (
    <>
      <PageHeader
        title="Masking"
        description="Hide phone numbers, email addresses and text from users who do not need to read them. Masked values show as placeholders everywhere Rapport sends record data; the real value stays stored and is never overwritten by a placeholder."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Data' }, { label: 'Masking' }]}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
            Mask a field
          </Button>
        }
      />
      <SimpleGrid cols={{ base: 1, md: 2 }} mb="lg" maw={1100}>
        <Paper withBorder p="md">
          <Title order={3} size="h5" mb={4}>
            Two levels
          </Title>
          <Text size="sm">
            <b>Module level</b>: the field is masked for every user of the module, administrators included.
          </Text>
          <Text size="sm" mt={4}>
            <b>Role level</b>: the field is masked only for users in the roles you choose (and, if you tick
            it, the roles below them). Everyone else reads the real value.
          </Text>
          <Title order={3} size="h5" mt="sm" mb={4}>
            Why mask
          </Title>
          <Text size="sm">
            People see only the personal data their work needs: a support agent can handle a ticket without
            reading the customer’s mobile number, and integrations receive placeholders too. Nothing is lost:
            the real value stays stored, and every reveal is audited.
          </Text>
        </Paper>
        <UnmaskPanel />
      </SimpleGrid>

      <ErrorAlert
        error={rules.error ?? fields.error}
        title="The masking rules cannot be shown"
        onRetry={reload}
      />
      {(rules.loading || fields.loading) && !rules.data && <SectionLoader label="Loading masking rules" />}
      {rules.data && (
        <Paper withBorder maw={1100}>
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="sm" aria-label="Masking rules">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Module</Table.Th>
                  <Table.Th>Field</Table.Th>
                  <Table.Th>Masked for</Table.Th>
                  <Table.Th>Shows as</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rules.data.items.map((r) => {
                  const f = fieldOf(r);
                  return (
                    <Table.Tr key={r.id}>
                      <Table.Td>{r.module}</Table.Td>
                      <Table.Td>
                        {f?.label ?? r.field}{' '}
                        <Badge size="xs" variant="light" color="gray">
                          {f?.type ?? ''}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {r.level === 'module'
                          ? 'Every user'
                          : r.roleIds.length === 0
                            ? 'Nobody: its roles were deleted'
                            : `${r.roleIds.map(roleName).join(', ')}${r.includeSubordinates ? ' and the roles below' : ''}`}
                      </Table.Td>
                      <Table.Td>
                        {f?.maskKind && (
                          <Preview kind={f.maskKind} keepFirst={r.keepFirst} keepLast={r.keepLast} />
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap="xs" justify="flex-end" wrap="nowrap">
                          <Button size="xs" variant="default" onClick={() => setEditing(r)}>
                            Edit
                          </Button>
                          <Button size="xs" variant="light" color="red" onClick={() => setDeleting(r)}>
                            Stop masking
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {rules.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No field is masked yet. Choose “Mask a field” to hide a phone, email or text field.
            </Text>
          )}
        </Paper>
      )}

      <SimpleGrid cols={{ base: 1, md: 2 }} mt="lg" maw={1100}>
        <Paper withBorder p="md">
          <Title order={3} size="h5" mb="xs">
            Where masking applies
          </Title>
          <List size="sm" spacing={2}>
            <List.Item>
              Every module: Contacts, Organizations, Leads, Deals, Products, Quotes, Tickets
            </List.Item>
            <List.Item>Phone, email and text fields, standard and custom</List.Item>
            <List.Item>
              Record lists, record pages, related lists and record titles built from a masked field
            </List.Item>
            <List.Item>Record history (old and new values)</List.Item>
            <List.Item>
              REST API and /webservice.php: retrieve, query, sync, related records, describe
            </List.Item>
            <List.Item>
              Search (global search and list search boxes), filters and sorting: a masked field is not
              searched, and filtering or sorting by it is refused
            </List.Item>
            <List.Item>
              Reports: cells and CSV exports are masked; filtering, grouping, sorting or summing by a field
              masked for you is refused
            </List.Item>
            <List.Item>
              Scheduled report mail: each user recipient gets the report as they see it; outside addresses as
              the report’s owner sees it
            </List.Item>
            <List.Item>Webhooks: payloads are masked as the webhook’s owner sees the record</List.Item>
            <List.Item>Audit log: record changes list field names, never values</List.Item>
            <List.Item>
              Saving: a placeholder sent back never replaces the real value, and one copied into a new record
              is left out
            </List.Item>
          </List>
        </Paper>
        <Paper withBorder p="md">
          <Title order={3} size="h5" mb="xs">
            Limitations
          </Title>
          <List size="sm" spacing={2}>
            <List.Item>
              Users who are masked cannot search, filter or sort by the field; lists offer no search on it.
            </List.Item>
            <List.Item>
              Masking is a display rule, not encryption: the value is stored as it is, and database backups
              contain it.
            </List.Item>
            <List.Item>
              Editing a masked field replaces the value without showing the old one; format checks for the
              field run only on the new value you type.
            </List.Item>
            <List.Item>
              A rule change reaches other servers sharing the database within a second (the permission cache).
            </List.Item>
            <List.Item>
              Other fields are not scanned: a phone number typed into a description stays readable.
            </List.Item>
            <List.Item>
              Masked values are not copied: converting a lead or copying a record leaves a field that is
              masked for you empty.
            </List.Item>
            <List.Item>
              A value typed with the shape of a mask (such as ****** or j***@example.com) into a field masked
              for you is taken as a placeholder and not saved.
            </List.Item>
            <List.Item>
              The mailroom’s processing log (admins only) shows each incoming email as it arrived, including
              values it filled into masked fields: the email is the source, not the record.
            </List.Item>
          </List>
        </Paper>
      </SimpleGrid>

      {editing && fields.data && roles.data && (
        <RuleModal
          rule={editing === 'new' ? null : editing}
          fields={fields.data}
          roles={roles.data.items}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmModal
          opened
          onClose={() => setDeleting(null)}
          title={`Stop masking ${deleting.module} ${fieldOf(deleting)?.label ?? deleting.field}?`}
          confirmLabel="Stop masking"
          danger
          onConfirm={async () => {
            await api.del(`masking/rules/${deleting.id}`);
            notifications.show({ color: 'green', message: 'The field is no longer masked.' });
            setDeleting(null);
            reload();
          }}
        >
          Every user who may see the field reads its real value again, from the next request.
        </ConfirmModal>
      )}
    </>
  );
}

/** The sample value of a kind, masked by the server with the pattern. */
function Preview({
  kind,
  keepFirst,
  keepLast,
  value,
}: {
  kind: Kind;
  keepFirst: number;
  keepLast: number;
  value?: string;
}) {
  const { api } = useSession();
  const sample = value ?? SAMPLES[kind];
  const [debounced] = useDebouncedValue(`${kind}|${keepFirst}|${keepLast}|${sample}`, 200);
  const [masked, setMasked] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const [k, first, last, ...rest] = debounced.split('|');
    api
      .post<{ masked: string }>('masking/preview', {
        kind: k,
        keepFirst: Number(first),
        keepLast: Number(last),
        value: rest.join('|'),
      })
      .then(
        (r) => live && setMasked(r.masked),
        () => live && setMasked(null),
      );
    return () => {
      live = false;
    };
  }, [api, debounced]);
  return (
    <Text size="sm" span ff="monospace" data-testid="mask-preview">
      {sample} → {masked ?? '…'}
    </Text>
  );
}

function RuleModal({
  rule,
  fields,
  roles,
  onClose,
  onSaved,
}: {
  rule: MaskingRule | null;
  fields: FieldsAnswer;
  roles: Role[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const { api } = useSession();
  const [module, setModule] = useState<string | null>(rule?.module ?? null);
  const [field, setField] = useState<string | null>(rule?.field ?? null);
  const [level, setLevel] = useState<'module' | 'role'>(rule?.level ?? 'module');
  const [roleIds, setRoleIds] = useState<string[]>((rule?.roleIds ?? []).map(String));
  const [subordinates, setSubordinates] = useState(rule?.includeSubordinates ?? false);
  const mod = fields.modules.find((m) => m.name === module);
  const f = mod?.fields.find((x) => x.name === field);
  const kind = f?.maskKind ?? null;
  const [keepFirst, setKeepFirst] = useState<number>(rule?.keepFirst ?? 1);
  const [keepLast, setKeepLast] = useState<number>(rule?.keepLast ?? 4);
  const [sample, setSample] = useState('');
  useEffect(() => {
    if (rule || !kind) return;
    // the defaults of each kind: phone keeps its last 4 digits, email its first letter, text nothing
    setKeepFirst(kind === 'email' ? 1 : 0);
    setKeepLast(kind === 'phone' ? 4 : 0);
    setSample(SAMPLES[kind]);
  }, [kind, rule]);
  useEffect(() => {
    if (kind && !sample) setSample(SAMPLES[kind]);
  }, [kind, sample]);

  const fieldOptions = (mod?.fields ?? [])
    .filter((x) => x.type !== 'owner' && x.name !== 'createdtime' && x.name !== 'modifiedtime')
    .map((x) => ({
      value: x.name,
      label: `${x.label}${x.custom ? ' (custom)' : ''} — ${x.type}${x.ruleId && x.ruleId !== rule?.id ? ' (already masked)' : ''}`,
      disabled: x.notMaskableReason !== null || (x.ruleId !== null && x.ruleId !== rule?.id),
    }));
  const notMaskable = mod?.fields.filter((x) => x.notMaskableReason).map((x) => x.label) ?? [];

  const {
    submit: save,
    busy,
    error,
  } = useSubmit(
    async () => {
      const body = {
        level,
        ...(level === 'role' ? { roleIds: roleIds.map(Number), includeSubordinates: subordinates } : {}),
        ...(kind !== 'phone' ? { keepFirst } : {}),
        ...(kind !== 'email' ? { keepLast } : {}),
      };
      if (rule) await api.patch(`masking/rules/${rule.id}`, body);
      else await api.post('masking/rules', { ...body, module, field });
    },
    { success: `${f?.label ?? field} is masked.`, onDone: onSaved },
  );

  return (
    <Modal opened onClose={onClose} title={rule ? 'Change masking' : 'Mask a field'} size="lg">
      <Stack>
        <Group grow align="flex-start">
          <Select
            label="Module"
            data={fields.modules.map((m) => ({ value: m.name, label: m.label }))}
            value={module}
            onChange={(v) => {
              setModule(v);
              setField(null);
            }}
            disabled={!!rule}
            searchable
          />
          <Select
            label="Field"
            description="Phone, email and text fields only"
            data={fieldOptions}
            value={field}
            onChange={setField}
            disabled={!!rule || !module}
            searchable
          />
        </Group>
        {mod && notMaskable.length > 0 && (
          <Text size="xs" c="dimmed">
            Greyed-out fields cannot be masked: only phone, email and text fields hold the kind of personal
            data masking is for, and numbers, dates, picklists and references are used to find, sort and link
            records.
          </Text>
        )}
        <SegmentedControl
          value={level}
          onChange={(v) => setLevel(v as 'module' | 'role')}
          data={[
            { value: 'module', label: 'Module level — every user' },
            { value: 'role', label: 'Role level — chosen roles' },
          ]}
        />
        {level === 'role' && (
          <>
            <MultiSelect
              label="Masked for these roles"
              data={roles.map((r) => ({ value: String(r.id), label: `${'  '.repeat(r.depth)}${r.name}` }))}
              value={roleIds}
              onChange={setRoleIds}
              searchable
            />
            <Checkbox
              label="Also mask for the roles below them"
              checked={subordinates}
              onChange={(e) => setSubordinates(e.currentTarget.checked)}
            />
          </>
        )}
        {kind && (
          <Paper withBorder p="sm">
            <Group grow align="flex-end">
              {kind !== 'phone' && (
                <NumberInput
                  label={kind === 'email' ? 'Letters kept before @' : 'Characters kept at the start'}
                  min={0}
                  max={fields.maxKeep}
                  value={keepFirst}
                  onChange={(v) => setKeepFirst(Number(v) || 0)}
                />
              )}
              {kind !== 'email' && (
                <NumberInput
                  label={kind === 'phone' ? 'Digits kept at the end' : 'Characters kept at the end'}
                  min={0}
                  max={fields.maxKeep}
                  value={keepLast}
                  onChange={(v) => setKeepLast(Number(v) || 0)}
                />
              )}
              <TextInput
                label="Try a value"
                value={sample}
                onChange={(e) => setSample(e.currentTarget.value)}
              />
            </Group>
            <Group mt="sm" gap="xs">
              <IconEyeOff size={16} aria-hidden />
              <Preview kind={kind} keepFirst={keepFirst} keepLast={keepLast} value={sample} />
            </Group>
            <Text size="xs" c="dimmed" mt={4}>
              {kind === 'phone'
                ? 'Digits become *, punctuation stays. Numbers too short to keep digits show only ******.'
                : kind === 'email'
                  ? 'The domain stays readable; the name before @ becomes ***.'
                  : `The hidden part is always ${fields.padding}, whatever the length, so the mask does not tell how long the value is.`}
            </Text>
          </Paper>
        )}
        {error && (
          <Alert color="red" variant="light" title="The rule was not saved">
            {error.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            onClick={() => void save()}
            loading={busy}
            disabled={!module || !field || (level === 'role' && roleIds.length === 0)}
          >
            Save
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** The profiles granting Unmask: their users get an eye button that reveals one value, audited. */
function UnmaskPanel() {
  const { api } = useSession();
  const profiles = useApi<Profile[] | { items: Profile[] }>('profiles');
  const unmask = useApi<{ profileIds: number[] }>('masking/unmask');
  const [value, setValue] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const list = Array.isArray(profiles.data) ? profiles.data : (profiles.data?.items ?? []);
  const current = value ?? (unmask.data?.profileIds ?? []).map(String);
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h5" mb={4}>
        Unmask permission
      </Title>
      <Text size="sm" mb="xs">
        Users whose profile is listed here see an eye button next to masked values. Each reveal shows one
        value of one record and is written to the audit log. Administrators are masked too unless their
        profile is listed.
      </Text>
      <ErrorAlert error={profiles.error ?? unmask.error} title="The Unmask permission cannot be shown" />
      <Group align="flex-end">
        <MultiSelect
          label="Profiles with Unmask"
          data={list.map((p) => ({ value: String(p.id), label: p.name }))}
          value={current}
          onChange={setValue}
          placeholder={current.length ? undefined : 'Nobody may unmask'}
          style={{ flex: 1 }}
        />
        <Button
          variant="default"
          loading={busy}
          disabled={value === null}
          onClick={async () => {
            setBusy(true);
            try {
              const saved = await api.put<{ profileIds: number[] }>('masking/unmask', {
                profileIds: current.map(Number),
              });
              unmask.setData(saved);
              setValue(null);
              notifications.show({ color: 'green', message: 'The Unmask permission was saved.' });
            } catch (err) {
              notifications.show({ color: 'red', message: asApiError(err).message });
            } finally {
              setBusy(false);
            }
          }}
        >
          Save
        </Button>
      </Group>
    </Paper>
  );
}
