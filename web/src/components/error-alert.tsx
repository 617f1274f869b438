import { Alert, Button, Text } from '@mantine/core';
import { IconAlertCircle } from '@tabler/icons-react';
import type { ApiError } from '../api/api-client';

/** An API failure in words: the server's message, and a reference the admin can look up in the log. */
export function ErrorAlert({
  error,
  title = 'That did not work',
  onRetry,
}: {
  error: ApiError | null;
  title?: string;
  onRetry?: () => void;
}) {
  if (!error) return null;
  return (
    <Alert color="red" variant="light" title={title} icon={<IconAlertCircle />} role="alert">
      <Text size="sm">{error.message}</Text>
      {error.requestId && (
        <Text size="xs" c="dimmed" mt={4}>
          Reference: {error.requestId}
        </Text>
      )}
      {onRetry && (
        <Button size="xs" variant="white" color="red" mt="xs" onClick={onRetry}>
          Try again
        </Button>
      )}
    </Alert>
  );
}
