import { Card, Text, Title } from '@mantine/core';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { useMe, useSession } from '../session/session-context';
import type { Webhook } from '../webhooks/webhook-types';
import { WebhooksTable } from '../webhooks/webhooks-table';

/** The webhooks subscribed to one user (API Management → a user): URL, Entity, Operation Type, Status. */
export function UserWebhooksPanel({ userId, name }: { userId: number; name?: string }) {
  const { can } = useSession();
  const me = useMe();
  const hooks = useApi<{ items: Webhook[] }>(can('webhooks') ? `users/${userId}/webhooks` : null);
  const items = hooks.data?.items ?? [];
  return (
    <Card withBorder mt="lg" padding="lg" component="section" aria-labelledby="webhooks-title">
      <Title order={2} size="h4" id="webhooks-title" mb="sm">
        Webhooks of {name ?? 'this user'}
      </Title>
      <ErrorAlert error={hooks.error} title="The webhooks cannot be listed" onRetry={hooks.reload} />
      {hooks.loading && <SectionLoader label="Loading webhooks" />}
      {!hooks.loading && items.length === 0 && (
        <Text c="dimmed" size="sm" data-testid="webhooks-empty">
          No webhooks are subscribed to this user. Webhooks send changes to another system the moment they
          happen.
        </Text>
      )}
      {items.length > 0 && (
        <>
          <Text size="sm" c="dimmed" mb="xs">
            Webhooks that are off send nothing. Switching one off here stops it at once; its owner can switch
            it on again.
          </Text>
          <WebhooksTable items={items} owner={me.user.id === userId} onChanged={hooks.reload} />
        </>
      )}
    </Card>
  );
}
