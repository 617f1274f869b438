import { Center, Paper, Stack, Title } from '@mantine/core';
import { IconAddressBook } from '@tabler/icons-react';
import type { ReactNode } from 'react';

/** The centred card of the pages reached without signing in (sign-in, emailed links). */
export function PublicCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Center mih="100vh" bg="gray.0" px="md">
      <Paper component="main" withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <Stack>
          <Stack gap={4} align="center">
            <IconAddressBook aria-hidden size={36} color="var(--mantine-color-indigo-6)" />
            <Title order={1} size="h3" ta="center">
              {title}
            </Title>
          </Stack>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}
