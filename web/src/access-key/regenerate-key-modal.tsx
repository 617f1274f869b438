import { List, Stack, Text } from '@mantine/core';
import { ConfirmModal } from '../components/confirm-modal';
import type { AccessKeyState } from './use-access-key';

/** The warning the seeds ask for: the old key dies now and must be replaced in every integration. */
export function RegenerateKeyModal({
  state,
  opened,
  onClose,
  whose,
}: {
  state: AccessKeyState;
  opened: boolean;
  onClose: () => void;
  /** "your" or a person's name */
  whose: string;
}) {
  const self = whose === 'your';
  return (
    <ConfirmModal
      opened={opened}
      onClose={onClose}
      title={self ? 'Regenerate your access key?' : `Regenerate the access key of ${whose}?`}
      confirmLabel="Regenerate access key"
      danger
      onConfirm={state.regenerate}
    >
      <Stack gap="xs">
        <Text size="sm">
          A new key is created and <strong>the current key stops working immediately</strong>.
        </Text>
        <Text size="sm">You must replace the old key in every integration that uses it, for example:</Text>
        <List size="sm">
          <List.Item>email and calendar extensions (Gmail, Outlook)</List.Item>
          <List.Item>mobile and desktop apps</List.Item>
          <List.Item>scripts and other systems that call the API or web services</List.Item>
        </List>
      </Stack>
    </ConfirmModal>
  );
}
