import { Text } from '@mantine/core';
import { PageHeader } from '../components/page-header';

/** Record screens arrive with the records API; until then the address explains itself. */
export function RecordRoutes() {
  return (
    <>
      <PageHeader title="Records" />
      <Text c="dimmed">Records are not available on this server yet.</Text>
    </>
  );
}
