import { ActionIcon, Group, Text, Tooltip } from '@mantine/core';
import { IconEye } from '@tabler/icons-react';
import { useState } from 'react';
import { useSubmit } from '../api/use-submit';
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
  const {
    submit: reveal,
    busy,
    error: failed,
  } = useSubmit(() => api.post<{ value: unknown }>(`records/${module}/${id}/reveal`, { field: field.name }), {
    onDone: (r) => setShown(r.value === null || r.value === undefined ? '' : String(r.value)),
  });
  const error = failed?.message ?? null;
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
          onClick={() => void reveal()}
        >
          <IconEye size={16} />
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}
