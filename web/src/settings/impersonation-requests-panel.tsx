import { Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useApi } from '../api/use-api';
import { useActions } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { formatTime } from '../format';
import { useUserNames } from '../records/use-module';
import { useMe, useSession } from '../session/session-context';

interface ConsentRequest {
  id: number;
  adminUserId: number;
  targetUserId: number;
  reason: string;
  status: 'pending' | 'approved' | 'denied' | 'used' | 'expired';
  createdAt: string;
  expiresAt: string;
}

/** Requests by administrators to log in as me, when the CRM requires my consent; hidden when there are none. */
export function ImpersonationRequestsPanel() {
  const me = useMe();
  const { api } = useSession();
  const { names } = useUserNames();
  const list = useApi<{ items: ConsentRequest[] }>('impersonation-requests');
  const { run, error } = useActions();
  const mine = (list.data?.items ?? []).filter((r) => r.targetUserId === me.user.id);
  if (mine.length === 0) return null;

  const decide = (r: ConsentRequest, decision: 'approve' | 'deny') =>
    run(async () => {
      await api.post(`impersonation-requests/${r.id}/${decision}`);
      list.reload();
      return decision === 'approve'
        ? 'Approved: they can log in as you within one hour.'
        : { color: 'gray', message: 'Request denied.' };
    });

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="consent-title">
      <Title order={2} size="h4" id="consent-title" mb="sm">
        Requests to log in as you
      </Title>
      <Stack gap="sm">
        {mine.map((r) => (
          <Group key={r.id} justify="space-between" wrap="wrap" align="flex-start">
            <div>
              <Text size="sm">
                <strong>{names.get(r.adminUserId) ?? `User ${r.adminUserId}`}</strong>: {r.reason}
              </Text>
              <Text size="xs" c="dimmed">
                Asked {formatTime(r.createdAt, me.user)}
              </Text>
            </div>
            {r.status === 'pending' ? (
              <Group gap="xs">
                <Button size="xs" onClick={() => void decide(r, 'approve')}>
                  Approve
                </Button>
                <Button size="xs" variant="default" onClick={() => void decide(r, 'deny')}>
                  Deny
                </Button>
              </Group>
            ) : (
              <Badge variant="light" color={r.status === 'approved' ? 'green' : 'gray'}>
                {r.status}
              </Badge>
            )}
          </Group>
        ))}
        <ErrorAlert error={error} />
      </Stack>
    </Card>
  );
}
