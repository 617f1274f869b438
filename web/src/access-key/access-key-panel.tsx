import {
  ActionIcon,
  Alert,
  Button,
  Card,
  Group,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconCopy, IconEye, IconEyeOff, IconKeyOff, IconRefresh } from '@tabler/icons-react';
import { useState } from 'react';
import { useActions, useSubmit } from '../api/use-submit';
import { ConfirmModal } from '../components/confirm-modal';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { formatTime, type TimePrefs } from '../format';
import { RegenerateKeyModal } from './regenerate-key-modal';
import type { AccessKeyState } from './use-access-key';

const MASK = '•'.repeat(24);

export function AccessKeyPanel({
  state,
  whose,
  timeZone,
}: {
  state: AccessKeyState;
  whose: string;
  timeZone?: TimePrefs;
}) {
  const [confirmRegenerate, setConfirmRegenerate] = useState(false);
  const [confirmOff, setConfirmOff] = useState(false);
  const { submit: turnOn, busy: switching, error: switchError } = useSubmit(() => state.setApiAccess(true));
  const key = state.data;
  const [copied, setCopied] = useState(false);
  /** Runs an action that may fetch the key, showing a failure next to the key. */
  const { run, error: keyError } = useActions();

  const copy = async () => {
    const value = state.secret ?? (await state.fetchSecret());
    if (!value) return;
    await navigator.clipboard.writeText(value);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="access-key-title">
      <Stack>
        <div>
          <Title order={2} size="h4" id="access-key-title">
            Access Key
          </Title>
          <Text size="sm" c="dimmed">
            Integrations sign in with the username and this key (REST API and Vtiger web services). Treat it
            like a password.
          </Text>
        </div>
        {state.loading && !key && <SectionLoader label="Loading the access key" />}
        <ErrorAlert error={state.error} title="The access key cannot be shown" onRetry={state.reload} />
        {key && (
          <>
            <Switch
              label="API access"
              description={
                key.apiAccess
                  ? 'On: the key below works.'
                  : 'Off: every integration using the key is refused.'
              }
              checked={key.apiAccess}
              disabled={switching}
              onChange={(e) => (e.currentTarget.checked ? void turnOn() : setConfirmOff(true))}
            />
            <ErrorAlert error={switchError} />
            <ErrorAlert error={keyError} />
            {key.hasKey ? (
              <Group align="flex-end" gap="xs" wrap="wrap">
                <TextInput
                  label="Access key"
                  readOnly
                  value={state.revealed && state.secret ? state.secret : MASK}
                  aria-describedby="access-key-hint"
                  styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
                  style={{ flex: '1 1 280px' }}
                  data-testid="access-key-value"
                />
                <Tooltip label={state.revealed ? 'Hide key' : 'Show key'}>
                  <ActionIcon
                    variant="default"
                    size="lg"
                    aria-label={state.revealed ? 'Hide key' : 'Show key'}
                    aria-pressed={state.revealed}
                    onClick={() => (state.revealed ? state.setRevealed(false) : void run(state.reveal))}
                  >
                    {state.revealed ? <IconEyeOff size={18} /> : <IconEye size={18} />}
                  </ActionIcon>
                </Tooltip>
                <Button
                  variant={copied ? 'filled' : 'default'}
                  color={copied ? 'teal' : undefined}
                  leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                  onClick={() => void run(copy)}
                >
                  {copied ? 'Copied' : 'Copy'}
                </Button>
                <Button
                  variant="light"
                  color="red"
                  leftSection={<IconRefresh size={16} />}
                  onClick={() => setConfirmRegenerate(true)}
                >
                  Regenerate access key
                </Button>
              </Group>
            ) : (
              <Alert
                color="yellow"
                variant="light"
                icon={<IconKeyOff />}
                title={key.apiAccess ? 'There is no access key' : 'No access key, and API access is off'}
                data-testid="no-access-key"
              >
                <Text size="sm">
                  {key.apiAccess
                    ? 'The key was cleared, so integrations cannot sign in.'
                    : 'Integrations cannot sign in: there is no key and the API is closed to this user.'}
                </Text>
                <Group gap="xs" mt="xs">
                  {!key.apiAccess && (
                    <Button size="xs" loading={switching} onClick={() => void turnOn()}>
                      Turn on API access
                    </Button>
                  )}
                  {key.apiAccess && (
                    <Button
                      size="xs"
                      leftSection={<IconRefresh size={14} />}
                      onClick={() => setConfirmRegenerate(true)}
                    >
                      Regenerate access key
                    </Button>
                  )}
                </Group>
              </Alert>
            )}
            <Text size="xs" c="dimmed" id="access-key-hint">
              Created {formatTime(key.createdAt, timeZone, 'never')} · Last used{' '}
              {formatTime(key.lastUsedAt, timeZone, 'never')}
              {key.lastUsedIp ? ` from ${key.lastUsedIp}` : ''}
            </Text>
          </>
        )}
      </Stack>
      <RegenerateKeyModal
        state={state}
        opened={confirmRegenerate}
        onClose={() => setConfirmRegenerate(false)}
        whose={whose}
      />
      <ConfirmModal
        opened={confirmOff}
        onClose={() => setConfirmOff(false)}
        title="Turn API access off?"
        confirmLabel="Turn off"
        danger
        onConfirm={() => state.setApiAccess(false)}
      >
        Every integration that uses this access key will fail until API access is turned on again.
      </ConfirmModal>
    </Card>
  );
}
