import { Badge, Button, Group, Menu, Switch, Table, Text, Tooltip } from '@mantine/core';
import { IconDots } from '@tabler/icons-react';
import { useState } from 'react';
import { useActions } from '../api/use-submit';
import { ConfirmModal } from '../components/confirm-modal';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';
import { WebhookDeliveries } from './webhook-deliveries';
import { entityLabel, operationLabel, type Webhook } from './webhook-types';

/**
 * The webhooks table of API Management (admin: URL, Entity, Operation Type, Status, switch off, attempts)
 * and of My Preferences (the owner also edits, tests, rotates the secret and deletes).
 */
export function WebhooksTable({
  items,
  owner,
  onChanged,
  onEdit,
  onSecret,
}: {
  items: Webhook[];
  /** the signed-in user owns these webhooks */
  owner: boolean;
  onChanged: () => void;
  onEdit?: (hook: Webhook) => void;
  onSecret?: (hook: Webhook, action: 'reveal' | 'rotate') => void;
}) {
  const { api } = useSession();
  const { run, error } = useActions();
  const [attemptsOf, setAttemptsOf] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);

  const toggle = (hook: Webhook, enabled: boolean) =>
    run(async () => {
      await api.patch(`webhooks/${hook.id}`, { enabled });
      onChanged();
    });

  const test = (hook: Webhook) =>
    run(async () => {
      await api.post(`webhooks/${hook.id}/test`);
      return {
        title: 'Test event sent',
        message: 'A webhook.test message is on its way; its attempt appears under Attempts.',
      };
    });

  return (
    <>
      <ErrorAlert error={error} title="The webhook cannot be changed" />
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Webhooks" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>URL</Table.Th>
              <Table.Th>Entity</Table.Th>
              <Table.Th>Operation Type</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((w) => (
              <Table.Tr key={w.id} data-testid={`webhook-${w.id}`}>
                <Table.Td style={{ wordBreak: 'break-all' }}>
                  {w.url}
                  {w.description && (
                    <Text size="xs" c="dimmed">
                      {w.description}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{entityLabel(w.module)}</Table.Td>
                <Table.Td>{operationLabel(w.operations)}</Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Switch
                      checked={w.enabled}
                      onChange={(e) => void toggle(w, e.currentTarget.checked)}
                      aria-label={`Webhook ${w.url} on`}
                    />
                    <Tooltip label={w.disabledReason ?? ''} disabled={!w.disabledReason}>
                      <Badge color={w.enabled ? 'green' : 'gray'} variant="light">
                        {w.status}
                      </Badge>
                    </Tooltip>
                  </Group>
                </Table.Td>
                <Table.Td ta="right">
                  <Group gap={4} justify="flex-end" wrap="nowrap">
                    <Button size="compact-sm" variant="subtle" onClick={() => setAttemptsOf(w)}>
                      Attempts
                    </Button>
                    <Button size="compact-sm" variant="subtle" onClick={() => void test(w)}>
                      Send test event
                    </Button>
                    {owner && (
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <Button size="compact-sm" variant="subtle" aria-label={`More for ${w.url}`}>
                            <IconDots size={16} />
                          </Button>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item onClick={() => onEdit?.(w)}>Edit</Menu.Item>
                          <Menu.Item onClick={() => onSecret?.(w, 'reveal')}>Show signing secret</Menu.Item>
                          <Menu.Item onClick={() => onSecret?.(w, 'rotate')}>Rotate secret</Menu.Item>
                          <Menu.Item color="red" onClick={() => setDeleting(w)}>
                            Delete
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {attemptsOf && (
        <WebhookDeliveries
          hook={attemptsOf}
          opened={attemptsOf !== null}
          onClose={() => setAttemptsOf(null)}
        />
      )}
      <ConfirmModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title="Delete this webhook?"
        confirmLabel="Delete webhook"
        danger
        onConfirm={async () => {
          if (!deleting) return;
          await api.del(`webhooks/${deleting.id}`);
          onChanged();
        }}
      >
        {deleting?.url} stops receiving changes, and its message log is deleted with it.
      </ConfirmModal>
    </>
  );
}
