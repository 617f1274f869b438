import { ActionIcon, Group, Text, Tooltip } from '@mantine/core';
import { IconEye } from '@tabler/icons-react';
import { useState } from 'react';
import { asApiError } from '../api/use-api';
import { useSession } from '../session/session-context';
import type { FieldView } from './record-types';

/**
 * A masked value with its eye button, for users whose profile grants Unmask: a click reveals this one
 * value of this one record (the server writes an audit entry); it is masked again on the next load.
 */
export function RevealableValue({
  module,
  id,
  field,
  children,
}: {
  module: string;
  id: number;
  field: FieldView;
  children: React.ReactNode;
}) {
  const { api } = useSession();
  const [shown, setShown] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (shown !== null)
    return (
      <Text span aria-label={`${field.label} (revealed)`}>
        {shown}
      </Text>
    );
  return (
    <Group gap={4} wrap="nowrap">
      {children}
      <Tooltip label={error ?? `Reveal ${field.label} (recorded in the audit log)`}>
        <ActionIcon
          variant="subtle"
          size="sm"
          loading={busy}
          color={error ? 'red' : undefined}
          aria-label={`Reveal ${field.label}`}
          onClick={async () => {
            setBusy(true);
            try {
              const r = await api.post<{ value: unknown }>(`records/${module}/${id}/reveal`, {
                field: field.name,
              });
              setShown(r.value === null || r.value === undefined ? '' : String(r.value));
            } catch (err) {
              setError(asApiError(err).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          <IconEye size={16} />
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}
