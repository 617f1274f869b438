import { Alert, Button, Card, Code, CopyButton, Group, Modal, Stack, Text, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { useApi } from '../api/use-api';
import { useActions } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { useSession } from '../session/session-context';
import { WebhookForm } from './webhook-form';
import type { Webhook } from './webhook-types';
import { WebhooksTable } from './webhooks-table';

/** My Preferences → Webhooks: the signed-in user's webhooks. */
export function MyWebhooksPanel() {
  const { api } = useSession();
  const list = useApi<{ items: Webhook[] }>('webhooks');
  const [form, setForm] = useState<{ editing: Webhook | null } | null>(null);
  const [secret, setSecret] = useState<{ hook: Webhook; value: string; rotated: boolean } | null>(null);
  const { run, error } = useActions();
  const items = list.data?.items ?? [];

  const onSecret = (hook: Webhook, action: 'reveal' | 'rotate') =>
    run(async () => {
      const res =
        action === 'reveal'
          ? await api.get<{ secret: string }>(`webhooks/${hook.id}/secret`)
          : await api.post<{ secret: string }>(`webhooks/${hook.id}/rotate-secret`);
      setSecret({ hook, value: res.secret, rotated: action === 'rotate' });
      if (action === 'rotate') list.reload();
    });

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="my-webhooks-title">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="my-webhooks-title">
          Webhooks
        </Title>
        <Button size="xs" leftSection={<IconPlus size={14} />} onClick={() => setForm({ editing: null })}>
          Add webhook
        </Button>
      </Group>
      <Text size="sm" c="dimmed" mb="sm">
        Rapport sends each change to records you can see to these URLs, signed with the webhook's secret
        (Standard Webhooks). Webhooks that are off send nothing, and changes made while off are not sent
        later.
      </Text>
      <ErrorAlert error={list.error ?? error} title="The webhooks cannot be shown" onRetry={list.reload} />
      {list.loading && !list.data && <SectionLoader label="Loading webhooks" />}
      {list.data && items.length === 0 && (
        <Text c="dimmed" size="sm" data-testid="my-webhooks-empty">
          You have no webhooks yet.
        </Text>
      )}
      {items.length > 0 && (
        <WebhooksTable
          items={items}
          owner
          onChanged={list.reload}
          onEdit={(hook) => setForm({ editing: hook })}
          onSecret={(hook, action) => void onSecret(hook, action)}
        />
      )}
      {form && (
        <WebhookForm
          opened
          key={form.editing?.id ?? 'new'}
          editing={form.editing}
          onClose={() => setForm(null)}
          onSaved={(saved) => {
            setForm(null);
            list.reload();
            if (saved.secret) setSecret({ hook: saved, value: saved.secret, rotated: false });
          }}
        />
      )}
      <Modal opened={secret !== null} onClose={() => setSecret(null)} title="Signing secret" size="lg">
        {secret && (
          <Stack>
            {secret.rotated && (
              <Alert color="yellow">
                The secret changed. The previous secret keeps signing alongside it for 24 hours: update your
                receiver within that time.
              </Alert>
            )}
            <Text size="sm">
              Verify each message of {secret.hook.url} with this secret (for example with the standardwebhooks
              package). Keep it private.
            </Text>
            <Code block data-testid="webhook-secret">
              {secret.value}
            </Code>
            <CopyButton value={secret.value}>
              {({ copied, copy }) => (
                <Button variant="light" onClick={copy}>
                  {copied ? 'Copied' : 'Copy secret'}
                </Button>
              )}
            </CopyButton>
          </Stack>
        )}
      </Modal>
    </Card>
  );
}
