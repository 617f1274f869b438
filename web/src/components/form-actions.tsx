import { Button, Group } from '@mantine/core';
import type { ReactNode } from 'react';
import type { ApiError } from '../api/api-client';
import { ErrorAlert } from './error-alert';

/** A form's end: its failure (if any), then Cancel and the submit button, on the right. */
export function FormActions({
  error = null,
  errorTitle,
  onCancel,
  busy,
  disabled,
  children,
}: {
  error?: ApiError | null;
  errorTitle?: string;
  onCancel: () => void;
  busy: boolean;
  disabled?: boolean;
  /** the submit button's label */
  children: ReactNode;
}) {
  return (
    <>
      <ErrorAlert error={error} title={errorTitle} />
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" loading={busy} disabled={disabled}>
          {children}
        </Button>
      </Group>
    </>
  );
}
