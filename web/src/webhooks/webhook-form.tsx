import { Button, Checkbox, Group, Modal, Select, Stack, Textarea, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import type { ModuleSummary } from '../records/record-types';
import { useSession } from '../session/session-context';
import { OPERATION_LABELS, type Operation, type Webhook } from './webhook-types';

/** Create or edit a webhook: URL, entity, operation types, description. */
export function WebhookForm({
  opened,
  onClose,
  editing,
  onSaved,
}: {
  opened: boolean;
  onClose: () => void;
  editing: Webhook | null;
  onSaved: (hook: Webhook & { secret?: string | null }) => void;
}) {
  const { api } = useSession();
  const modules = useApi<{ items: ModuleSummary[] }>(opened ? 'modules' : null);
  const [url, setUrl] = useState(editing?.url ?? '');
  const [module, setModule] = useState(editing?.module ?? '*');
  const [ops, setOps] = useState<string[]>(editing?.operations ?? ['created', 'updated', 'deleted']);
  const [description, setDescription] = useState(editing?.description ?? '');
  const {
    submit: save,
    busy,
    error,
  } = useSubmit(
    () => {
      const body = { url, module, operations: ops, description: description.trim() || null };
      return editing
        ? api.patch<Webhook>(`webhooks/${editing.id}`, body)
        : api.post<Webhook & { secret: string | null }>('webhooks', body);
    },
    { onDone: onSaved },
  );

  const moduleOptions = [
    { value: '*', label: 'All modules' },
    ...(modules.data?.items ?? []).map((m) => ({ value: m.name, label: m.label })),
  ];

  return (
    <Modal opened={opened} onClose={onClose} title={editing ? 'Edit webhook' : 'Add webhook'} size="lg">
      <Stack>
        <ErrorAlert error={error} title="The webhook cannot be saved" />
        <TextInput
          label="URL"
          description="Where Rapport sends the changes (http:// or https://)"
          placeholder="https://example.com/rapport-hook"
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          required
        />
        <Select
          label="Entity"
          description="Which records trigger the webhook"
          data={moduleOptions}
          value={module}
          onChange={(v) => setModule(v ?? '*')}
          allowDeselect={false}
        />
        <Checkbox.Group label="Operation Type" value={ops} onChange={setOps}>
          <Group mt="xs">
            {(Object.keys(OPERATION_LABELS) as Operation[]).map((o) => (
              <Checkbox key={o} value={o} label={OPERATION_LABELS[o]} />
            ))}
          </Group>
        </Checkbox.Group>
        <Textarea
          label="Description"
          maxLength={500}
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => void save()} loading={busy} disabled={ops.length === 0 || url.trim() === ''}>
            {editing ? 'Save' : 'Add webhook'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
