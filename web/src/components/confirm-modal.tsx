import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from './error-alert';

/** A yes/no dialog for actions that cannot be undone; shows the failure in place if the action fails. */
export function ConfirmModal({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  danger = false,
  confirmDisabled = false,
  onConfirm,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** the dialog's own inputs are not complete yet (say what is missing in the dialog, not as an error) */
  confirmDisabled?: boolean;
  /** resolves `false` to keep the dialog open (the action needs another step) */
  onConfirm: () => Promise<unknown>;
}) {
  const { submit, busy, error, clearError } = useSubmit(onConfirm, {
    onDone: (result) => {
      if (result !== false) close();
    },
  });
  const close = () => {
    clearError();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <Stack>
        {typeof children === 'string' ? <Text size="sm">{children}</Text> : children}
        <ErrorAlert error={error} />
        <Group justify="flex-end">
          {/* a destructive action starts with focus on Cancel, so Enter does not destroy by accident */}
          <Button variant="default" onClick={close} data-autofocus={danger || undefined}>
            Cancel
          </Button>
          <Button
            color={danger ? 'red' : undefined}
            loading={busy}
            disabled={confirmDisabled}
            onClick={() => void submit()}
            data-autofocus={!danger || undefined}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
