import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  Paper,
  PasswordInput,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconGripVertical, IconTrash } from '@tabler/icons-react';
import { type DragEvent, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/api-client';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { formatTime } from '../format';
import { useMe, useSession } from '../session/session-context';

interface Condition {
  field: string;
  op: string;
  value: string;
}
interface Mapping {
  label: string;
  field: string;
}
interface Rule {
  id: number;
  name: string;
  enabled: boolean;
  matchMode: 'all' | 'any';
  conditions: Condition[];
  action: 'create' | 'update_ticket' | 'link';
  module: string | null;
  assignedUserId: number;
  autofill: { delimiter: string; mappings: Mapping[] } | null;
}
interface Mailbox {
  id: number;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  username: string;
  folders: string[];
  scan: 'unread' | 'all';
  afterScan: 'none' | 'mark_read' | 'move';
  moveTo: string | null;
  pollSeconds: number;
  enabled: boolean;
  lastPolledAt: string | null;
  lastError: string | null;
  failures: number;
}
interface Message {
  id: number;
  from: string | null;
  subject: string | null;
  receivedAt: string;
  status: string;
  reason: string | null;
  ruleName: string | null;
  action: string | null;
  module: string | null;
  recordId: number | null;
  autofilled: Record<string, unknown> | null;
  dropped: Array<{ label: string; field: string; value: string; reason: string }> | null;
  rerunnable: boolean;
}
interface AutofillMeta {
  delimiters: string[];
  virtualLabels: string[];
  modules: Array<{ name: string; label: string; fields: Array<{ name: string; label: string }> }>;
}

const FIELDS = [
  { value: 'from', label: 'From' },
  { value: 'to', label: 'To' },
  { value: 'cc', label: 'CC' },
  { value: 'subject', label: 'Subject' },
  { value: 'body', label: 'Body' },
];
const OPS = [
  { value: 'contains', label: 'contains' },
  { value: 'not_contains', label: 'does not contain' },
  { value: 'equals', label: 'equals' },
  { value: 'not_equals', label: 'does not equal' },
  { value: 'begins_with', label: 'begins with' },
  { value: 'ends_with', label: 'ends with' },
  { value: 'regex', label: 'matches regex' },
  { value: 'has_ticket_number', label: 'has ticket number' },
];
const ACTIONS = [
  { value: 'create', label: 'Create a record' },
  { value: 'update_ticket', label: 'Update the ticket named in the subject' },
  { value: 'link', label: 'Link to the record whose email matches From (else To)' },
];
const STATUS_COLOR: Record<string, string> = {
  processed: 'green',
  no_match: 'gray',
  skipped: 'yellow',
  failed: 'red',
  received: 'blue',
};

export function MailroomPage() {
  return (
    <>
      <PageHeader
        title="Mailroom"
        description="Incoming email becomes records: mailboxes to read, rules in priority order, and what happened to every message."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Mail' }, { label: 'Mailroom' }]}
      />
      <Tabs defaultValue="rules" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="rules">Rules</Tabs.Tab>
          <Tabs.Tab value="mailboxes">Mailboxes</Tabs.Tab>
          <Tabs.Tab value="log">Processing log</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="rules">
          <RulesPanel />
        </Tabs.Panel>
        <Tabs.Panel value="mailboxes">
          <MailboxesPanel />
        </Tabs.Panel>
        <Tabs.Panel value="log">
          <LogPanel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

function RulesPanel() {
  const { api } = useSession();
  const rules = useApi<{ items: Rule[] }>('mailroom/rules');
  const users = useApi<{ items: Array<{ id: number; userName?: string; username?: string }> }>(
    'users?limit=200',
  );
  const meta = useApi<AutofillMeta>('mailroom/autofill/fields');
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);

  /** Where a dragged row would land: before or after the row under the pointer. */
  const [drag, setDrag] = useState<{ from: number; over: number | null; after: boolean } | null>(null);

  /**
   * Saves of the order go one at a time, in the order the moves were made: two in flight could commit in
   * either order on PostgreSQL, and an older order saved last would come back after a reload (seen in the
   * browser test: two drags in quick succession).
   */
  const saving = useRef<Promise<unknown>>(Promise.resolve());
  const moves = useRef(0);

  async function moveTo(from: number, to: number) {
    const items = [...rules.data!.items];
    if (from === to || to < 0 || to >= items.length) return;
    const [rule] = items.splice(from, 1);
    items.splice(to, 0, rule!);
    // shown at once; the server's order replaces it (or the old one comes back with the error)
    rules.setData({ items });
    const move = ++moves.current;
    const ids = items.map((r) => r.id);
    const save = saving.current.then(() => api.put<{ items: Rule[] }>('mailroom/rules-order', { ids }));
    saving.current = save.catch(() => {});
    try {
      const saved = await save;
      // the answer to an earlier move would put back an order the screen has moved on from
      if (move === moves.current) rules.setData(saved);
    } catch (err) {
      setError(errorText(err));
      rules.reload();
    }
  }
  const move = (index: number, by: number) => moveTo(index, index + by);
  /** Native HTML5 drag and drop of the rows (the arrow buttons are the keyboard way). */
  const dragProps = (i: number) => ({
    draggable: true,
    onDragStart: (e: DragEvent<HTMLTableRowElement>) => {
      e.dataTransfer.effectAllowed = 'move';
      e.dataTransfer.setData('text/plain', String(rules.data!.items[i]!.id));
      setDrag({ from: i, over: null, after: false });
    },
    onDragOver: (e: DragEvent<HTMLTableRowElement>) => {
      if (!drag) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      const box = e.currentTarget.getBoundingClientRect();
      const after = e.clientY > box.top + box.height / 2;
      if (drag.over !== i || drag.after !== after) setDrag({ ...drag, over: i, after });
    },
    onDrop: (e: DragEvent<HTMLTableRowElement>) => {
      if (!drag) return;
      e.preventDefault();
      const box = e.currentTarget.getBoundingClientRect();
      const after = e.clientY > box.top + box.height / 2;
      let to = after ? i + 1 : i;
      if (drag.from < to) to -= 1;
      setDrag(null);
      void moveTo(drag.from, to);
    },
    onDragEnd: () => setDrag(null),
    style: {
      cursor: 'grab',
      opacity: drag?.from === i ? 0.5 : undefined,
      boxShadow:
        drag?.over === i && drag.from !== i
          ? `inset 0 ${drag.after ? -3 : 3}px 0 var(--mantine-color-blue-6)`
          : undefined,
    },
  });
  async function remove(rule: Rule) {
    try {
      await api.del(`mailroom/rules/${rule.id}`);
      rules.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <Group justify="space-between" mb="sm">
        <Text c="dimmed" size="sm">
          Rules are tried from the top; the first rule whose action produces a record wins. Drag a row, or use
          its arrows, to change the order.
        </Text>
        <Button onClick={() => setEditing('new')}>Add rule</Button>
      </Group>
      {error && (
        <Alert color="red" mb="sm" withCloseButton onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      <ErrorAlert error={rules.error} title="The rules cannot be shown" onRetry={rules.reload} />
      {rules.loading && <SectionLoader label="Loading the rules" />}
      {rules.data && (
        <Paper withBorder>
          <Table aria-label="Mailroom rules" verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>Rule</Table.Th>
                <Table.Th>Conditions</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rules.data.items.map((r, i) => (
                <Table.Tr key={r.id} data-testid={`rule-${r.name}`} {...dragProps(i)}>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <IconGripVertical
                        size={16}
                        aria-hidden
                        style={{ color: 'var(--mantine-color-dimmed)' }}
                      />
                      {i + 1}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Anchor component="button" type="button" onClick={() => setEditing(r)}>
                      {r.name}
                    </Anchor>{' '}
                    {!r.enabled && <Badge color="gray">off</Badge>}
                  </Table.Td>
                  <Table.Td>
                    {r.conditions.length === 0
                      ? 'every message'
                      : r.conditions
                          .map(
                            (c) =>
                              `${c.field} ${OPS.find((o) => o.value === c.op)?.label ?? c.op} ${c.value}`,
                          )
                          .join(r.matchMode === 'all' ? ' and ' : ' or ')}
                  </Table.Td>
                  <Table.Td>
                    {r.action === 'create'
                      ? `Create ${r.module}`
                      : r.action === 'link'
                        ? 'Link'
                        : 'Update ticket'}
                    {r.autofill &&
                      r.autofill.mappings.length > 0 &&
                      ` (autofill ${r.autofill.mappings.length})`}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      <ActionIcon
                        variant="subtle"
                        aria-label={`Move ${r.name} up`}
                        disabled={i === 0}
                        onClick={() => move(i, -1)}
                      >
                        <IconArrowUp size={16} />
                      </ActionIcon>
                      <ActionIcon
                        variant="subtle"
                        aria-label={`Move ${r.name} down`}
                        disabled={i === rules.data!.items.length - 1}
                        onClick={() => move(i, 1)}
                      >
                        <IconArrowDown size={16} />
                      </ActionIcon>
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${r.name}`}
                        onClick={() => remove(r)}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {rules.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No rules yet: every message is logged as unmatched.
            </Text>
          )}
        </Paper>
      )}
      {editing !== null && meta.data && (
        <RuleModal
          rule={editing === 'new' ? null : editing}
          meta={meta.data}
          users={(users.data?.items ?? []).map((u) => ({
            value: String(u.id),
            label: u.userName ?? u.username ?? String(u.id),
          }))}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            rules.reload();
          }}
        />
      )}
    </>
  );
}

function RuleModal(props: {
  rule: Rule | null;
  meta: AutofillMeta;
  users: Array<{ value: string; label: string }>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { api } = useSession();
  const me = useMe();
  const r = props.rule;
  const [name, setName] = useState(r?.name ?? '');
  const [enabled, setEnabled] = useState(r?.enabled ?? true);
  const [matchMode, setMatchMode] = useState<string>(r?.matchMode ?? 'all');
  const [conditions, setConditions] = useState<Condition[]>(r?.conditions ?? []);
  const [action, setAction] = useState<string>(r?.action ?? 'create');
  const [module, setModule] = useState<string>(r?.module ?? 'Leads');
  const [userId, setUserId] = useState<string>(String(r?.assignedUserId ?? me.user.id));
  const [delimiter, setDelimiter] = useState(r?.autofill?.delimiter ?? ':');
  const [mappings, setMappings] = useState<Mapping[]>(r?.autofill?.mappings ?? []);
  const [sample, setSample] = useState('');
  const [labels, setLabels] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const fields = props.meta.modules.find((m) => m.name === module)?.fields ?? [];

  async function findLabels() {
    try {
      const res = await api.post<{ labels: Array<{ label: string }> }>('mailroom/autofill/labels', {
        sample,
        delimiter,
      });
      setLabels(res.labels.map((l) => l.label));
    } catch (err) {
      setError(errorText(err));
    }
  }
  const allLabels = [...new Set([...props.meta.virtualLabels, ...labels, ...mappings.map((m) => m.label)])];

  async function save() {
    const body = {
      name,
      enabled,
      matchMode,
      conditions,
      action,
      module: action === 'create' ? module : null,
      assignedUserId: Number(userId),
      autofill: action === 'create' && mappings.length > 0 ? { delimiter, mappings } : null,
    };
    try {
      if (r) await api.put(`mailroom/rules/${r.id}`, body);
      else await api.post('mailroom/rules', body);
      props.onSaved();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Modal opened onClose={props.onClose} title={r ? `Rule ${r.name}` : 'New rule'} size="xl">
      <Stack>
        {error && <Alert color="red">{error}</Alert>}
        <TextInput label="Rule name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
        <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <Group>
          <Text size="sm">Match</Text>
          <SegmentedControl
            value={matchMode}
            onChange={setMatchMode}
            data={[
              { value: 'all', label: 'all conditions' },
              { value: 'any', label: 'any condition' },
            ]}
          />
        </Group>
        {conditions.map((c, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: conditions have no identity; a row is its position
          <Group key={i} align="flex-end" wrap="nowrap">
            <Select
              label="Field"
              data={FIELDS}
              value={c.field}
              allowDeselect={false}
              onChange={(v) =>
                setConditions(conditions.map((x, j) => (j === i ? { ...x, field: v ?? 'from' } : x)))
              }
            />
            <Select
              label="Operator"
              data={OPS}
              value={c.op}
              allowDeselect={false}
              onChange={(v) =>
                setConditions(conditions.map((x, j) => (j === i ? { ...x, op: v ?? 'contains' } : x)))
              }
            />
            <TextInput
              label="Value"
              value={c.value}
              style={{ flex: 1 }}
              onChange={(e) => {
                const value = e.currentTarget.value;
                setConditions(conditions.map((x, j) => (j === i ? { ...x, value } : x)));
              }}
            />
            <ActionIcon
              variant="subtle"
              color="red"
              aria-label="Remove condition"
              onClick={() => setConditions(conditions.filter((_, j) => j !== i))}
            >
              <IconTrash size={16} />
            </ActionIcon>
          </Group>
        ))}
        <Group>
          <Button
            variant="light"
            onClick={() => setConditions([...conditions, { field: 'from', op: 'contains', value: '' }])}
          >
            Add condition
          </Button>
        </Group>
        <Select
          label="Action"
          data={ACTIONS}
          value={action}
          allowDeselect={false}
          onChange={(v) => setAction(v ?? 'create')}
        />
        {action === 'create' && (
          <Select
            label="Module"
            data={props.meta.modules.map((m) => ({ value: m.name, label: m.label }))}
            value={module}
            allowDeselect={false}
            onChange={(v) => {
              setModule(v ?? 'Leads');
              setMappings([]);
            }}
          />
        )}
        <Select
          label="Assigned to (records are created as this user)"
          data={props.users}
          value={userId}
          allowDeselect={false}
          onChange={(v) => setUserId(v ?? userId)}
        />
        {action === 'create' && (
          <Paper withBorder p="sm">
            <Text fw={600}>Autofill values from the email body</Text>
            <Select
              label="Delimiter between label and value"
              data={props.meta.delimiters}
              value={props.meta.delimiters.includes(delimiter) ? delimiter : null}
              onChange={(v) => v && setDelimiter(v)}
              w={240}
            />
            <TextInput
              label="Or your own delimiter"
              value={delimiter}
              onChange={(e) => setDelimiter(e.currentTarget.value)}
              w={240}
            />
            <Textarea
              label="Sample email body"
              description="Paste an email; Rapport lists the labels it finds."
              autosize
              minRows={3}
              value={sample}
              onChange={(e) => setSample(e.currentTarget.value)}
            />
            <Group mt="xs">
              <Button variant="light" onClick={findLabels}>
                Find labels
              </Button>
            </Group>
            {allLabels.map((label) => {
              const current = mappings.find((m) => m.label === label);
              return (
                <Group key={label} mt="xs" wrap="nowrap">
                  <Text w={200} size="sm">
                    {label}
                  </Text>
                  <Select
                    aria-label={`Field for ${label}`}
                    placeholder="not mapped"
                    clearable
                    data={fields
                      .filter((f) => f.name === current?.field || !mappings.some((m) => m.field === f.name))
                      .map((f) => ({ value: f.name, label: f.label }))}
                    value={current?.field ?? null}
                    onChange={(v) => {
                      const rest = mappings.filter((m) => m.label !== label);
                      setMappings(v ? [...rest, { label, field: v }] : rest);
                    }}
                  />
                </Group>
              );
            })}
          </Paper>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            Cancel
          </Button>
          <Button onClick={save}>Save rule</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

const EMPTY_BOX = {
  name: '',
  host: '',
  port: 993,
  tls: true,
  username: '',
  password: '',
  folders: 'INBOX',
  scan: 'unread',
  afterScan: 'mark_read',
  moveTo: '',
  pollSeconds: 60,
};

function MailboxesPanel() {
  const { api } = useSession();
  const me = useMe();
  const boxes = useApi<{ items: Mailbox[] }>('mailroom/mailboxes');
  const [form, setForm] = useState<typeof EMPTY_BOX | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const body = (f: typeof EMPTY_BOX) => ({
    ...f,
    folders: f.folders
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    moveTo: f.afterScan === 'move' ? f.moveTo : null,
  });
  async function run(
    fn: () => Promise<{ ok?: boolean; message?: string; error?: string | null; fetched?: number }>,
  ) {
    try {
      const res = await fn();
      if (res.message !== undefined) setMessage({ ok: Boolean(res.ok), text: res.message });
      else if (res.error) setMessage({ ok: false, text: res.error });
      else if (res.fetched !== undefined)
        setMessage({ ok: true, text: `Fetched ${res.fetched} new message(s).` });
      boxes.reload();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  }

  return (
    <>
      <Group justify="space-between" mb="sm">
        <Text c="dimmed" size="sm">
          Rapport reads these IMAP mailboxes. Passwords are stored encrypted and never shown again.
        </Text>
        <Button onClick={() => setForm({ ...EMPTY_BOX })}>Add mailbox</Button>
      </Group>
      {message && (
        <Alert
          color={message.ok ? 'green' : 'red'}
          mb="sm"
          withCloseButton
          onClose={() => setMessage(null)}
          data-testid="mailbox-message"
        >
          {message.text}
        </Alert>
      )}
      <ErrorAlert error={boxes.error} title="The mailboxes cannot be shown" onRetry={boxes.reload} />
      {boxes.data && (
        <Paper withBorder>
          <Table aria-label="Mailboxes" verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Mailbox</Table.Th>
                <Table.Th>Server</Table.Th>
                <Table.Th>Last polled</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {boxes.data.items.map((b) => (
                <Table.Tr key={b.id}>
                  <Table.Td>
                    {b.name} {!b.enabled && <Badge color="gray">off</Badge>}
                  </Table.Td>
                  <Table.Td>
                    {b.username}@{b.host}:{b.port} {b.tls ? '(TLS)' : ''} · {b.folders.join(', ')}
                    {b.lastError && (
                      <Text size="sm" c="red">
                        {b.lastError} ({b.failures} in a row)
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{b.lastPolledAt ? formatTime(b.lastPolledAt, me.user) : 'never'}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" justify="flex-end" wrap="nowrap">
                      <Button
                        size="xs"
                        variant="light"
                        onClick={() => run(() => api.post(`mailroom/mailboxes/${b.id}/test`))}
                      >
                        Test connection
                      </Button>
                      <Button
                        size="xs"
                        variant="light"
                        onClick={() => run(() => api.post(`mailroom/mailboxes/${b.id}/poll`))}
                      >
                        Poll now
                      </Button>
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Delete ${b.name}`}
                        onClick={() =>
                          run(async () => {
                            await api.del(`mailroom/mailboxes/${b.id}`);
                            return {};
                          })
                        }
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {boxes.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No mailboxes. Mail can also be handed in with POST /api/v1/mailroom/messages.
            </Text>
          )}
        </Paper>
      )}
      {form && (
        <Modal opened onClose={() => setForm(null)} title="Add mailbox" size="lg">
          <Stack>
            <TextInput
              label="Name"
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
            />
            <Group grow>
              <TextInput
                label="IMAP host"
                value={form.host}
                onChange={(e) => setForm({ ...form, host: e.currentTarget.value })}
              />
              <NumberInput
                label="Port"
                value={form.port}
                onChange={(v) => setForm({ ...form, port: Number(v) })}
              />
            </Group>
            <Checkbox
              label="TLS"
              checked={form.tls}
              onChange={(e) => setForm({ ...form, tls: e.currentTarget.checked })}
            />
            <TextInput
              label="Username"
              value={form.username}
              onChange={(e) => setForm({ ...form, username: e.currentTarget.value })}
            />
            <PasswordInput
              label="Password"
              value={form.password}
              onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
            />
            <TextInput
              label="Folders (comma-separated)"
              value={form.folders}
              onChange={(e) => setForm({ ...form, folders: e.currentTarget.value })}
            />
            <Select
              label="Scan"
              data={[
                { value: 'unread', label: 'Unread mail' },
                { value: 'all', label: 'All mail' },
              ]}
              value={form.scan}
              allowDeselect={false}
              onChange={(v) => setForm({ ...form, scan: v ?? 'unread' })}
            />
            <Select
              label="After scanning"
              data={[
                { value: 'mark_read', label: 'Mark as read' },
                { value: 'move', label: 'Move to a folder' },
                { value: 'none', label: 'Leave as is' },
              ]}
              value={form.afterScan}
              allowDeselect={false}
              onChange={(v) => setForm({ ...form, afterScan: v ?? 'mark_read' })}
            />
            {form.afterScan === 'move' && (
              <TextInput
                label="Move to folder"
                value={form.moveTo}
                onChange={(e) => setForm({ ...form, moveTo: e.currentTarget.value })}
              />
            )}
            <NumberInput
              label="Poll every (seconds)"
              min={30}
              value={form.pollSeconds}
              onChange={(v) => setForm({ ...form, pollSeconds: Number(v) })}
            />
            <Group justify="flex-end">
              <Button
                variant="light"
                onClick={() => run(() => api.post('mailroom/mailboxes/test', body(form)))}
              >
                Test connection
              </Button>
              <Button
                onClick={() =>
                  run(async () => {
                    await api.post('mailroom/mailboxes', body(form));
                    setForm(null);
                    return { ok: true, message: 'Mailbox added.' };
                  })
                }
              >
                Save mailbox
              </Button>
            </Group>
          </Stack>
        </Modal>
      )}
    </>
  );
}

function LogPanel() {
  const { api } = useSession();
  const me = useMe();
  const [status, setStatus] = useState<string | null>(null);
  const log = useApi<{ items: Message[] }>(`mailroom/messages?limit=100${status ? `&status=${status}` : ''}`);
  const [open, setOpen] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function rerun(m: Message) {
    try {
      const res = await api.post<Message>(`mailroom/messages/${m.id}/rerun`);
      setOpen(res);
      log.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <>
      <Group mb="sm">
        <Select
          aria-label="Status"
          placeholder="Every status"
          clearable
          data={['processed', 'no_match', 'skipped', 'failed', 'received']}
          value={status}
          onChange={setStatus}
        />
        <Button variant="default" onClick={log.reload}>
          Refresh
        </Button>
      </Group>
      {error && (
        <Alert color="red" mb="sm" withCloseButton onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      <ErrorAlert error={log.error} title="The log cannot be shown" onRetry={log.reload} />
      {log.data && (
        <Paper withBorder>
          <Table aria-label="Processed messages" verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Received</Table.Th>
                <Table.Th>From</Table.Th>
                <Table.Th>Subject</Table.Th>
                <Table.Th>Outcome</Table.Th>
                <Table.Th>Record</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {log.data.items.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{formatTime(m.receivedAt, me.user)}</Table.Td>
                  <Table.Td>{m.from}</Table.Td>
                  <Table.Td>
                    <Anchor component="button" type="button" onClick={() => setOpen(m)}>
                      {m.subject || '(no subject)'}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={STATUS_COLOR[m.status] ?? 'gray'}>{m.status.replace('_', ' ')}</Badge>{' '}
                    {m.ruleName && <Text span size="sm">{`${m.ruleName} → ${m.action}`}</Text>}
                  </Table.Td>
                  <Table.Td>
                    {m.recordId && m.module ? (
                      <Anchor component={Link} to={`/records/${m.module}/${m.recordId}`}>
                        {m.module} {m.recordId}
                      </Anchor>
                    ) : (
                      '—'
                    )}
                  </Table.Td>
                  <Table.Td>
                    {m.rerunnable && (
                      <Button size="xs" variant="light" onClick={() => rerun(m)}>
                        Re-run
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {log.data.items.length === 0 && (
            <Text p="md" c="dimmed">
              No messages yet.
            </Text>
          )}
        </Paper>
      )}
      <Modal
        opened={open !== null}
        onClose={() => setOpen(null)}
        title={open?.subject || 'Message'}
        size="lg"
      >
        {open && (
          <Stack gap="xs">
            <Group gap="xs">
              <Badge color={STATUS_COLOR[open.status] ?? 'gray'}>{open.status.replace('_', ' ')}</Badge>
              {open.reason && <Text size="sm">{open.reason}</Text>}
            </Group>
            {open.ruleName && <Text size="sm">Rule: {open.ruleName}</Text>}
            {open.autofilled && Object.keys(open.autofilled).length > 0 && (
              <Text size="sm">
                Autofilled:{' '}
                {Object.entries(open.autofilled)
                  .map(([k, v]) => `${k} = ${String(v)}`)
                  .join(', ')}
              </Text>
            )}
            {open.dropped?.map((d) => (
              <Text key={d.field} size="sm" c="orange">
                Dropped {d.label} → {d.field} ("{d.value}"): {d.reason}
              </Text>
            ))}
          </Stack>
        )}
      </Modal>
    </>
  );
}
