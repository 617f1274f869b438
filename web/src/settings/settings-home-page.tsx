import { Anchor, Card, Group, SimpleGrid, Stack, Text, TextInput, ThemeIcon, Title } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { PageHeader } from '../components/page-header';
import { useMe, useSession } from '../session/session-context';
import { SETTINGS_GROUPS, type SettingsItem } from './settings-catalog';

export function SettingsHomePage() {
  const me = useMe();
  const { can } = useSession();
  const [search, setSearch] = useState('');

  const groups = useMemo(() => {
    const q = search.trim().toLowerCase();
    const visible = (i: SettingsItem) =>
      (!i.adminOnly || me.user.isAdmin) &&
      (!i.requires || can(i.requires)) &&
      (!q || `${i.label} ${i.description} ${i.keywords}`.toLowerCase().includes(q));
    return SETTINGS_GROUPS.map((g) => ({ ...g, items: g.items.filter(visible) })).filter(
      (g) => g.items.length > 0,
    );
  }, [search, me.user.isAdmin, can]);

  return (
    <>
      <PageHeader
        title="Settings"
        description={
          me.user.isAdmin
            ? 'Everything you can configure in this CRM.'
            : 'Your own account. Ask an administrator for CRM-wide changes.'
        }
      />
      <TextInput
        label="Search settings"
        placeholder="For example: access key, password, audit"
        leftSection={<IconSearch size={16} aria-hidden />}
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        maw={480}
        mb="lg"
      />
      {groups.length === 0 && <Text c="dimmed">No settings match “{search}”.</Text>}
      <Stack gap="xl">
        {groups.map((g) => (
          <section key={g.title} aria-labelledby={`group-${g.title}`}>
            <Title order={2} size="h4" mb="sm" id={`group-${g.title}`}>
              {g.title}
            </Title>
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
              {g.items.map((i) => (
                <SettingsCard key={i.label} item={i} />
              ))}
            </SimpleGrid>
          </section>
        ))}
      </Stack>
    </>
  );
}

function SettingsCard({ item }: { item: SettingsItem }) {
  const link = item.external
    ? { component: 'a' as const, href: item.to, target: '_blank', rel: 'noopener' }
    : { component: Link, to: item.to };
  return (
    <Card withBorder padding="md">
      <Group wrap="nowrap" align="flex-start">
        <ThemeIcon variant="light" size="lg" aria-hidden>
          {item.icon}
        </ThemeIcon>
        <Stack gap={2}>
          <Anchor fw={600} {...(link as object)}>
            {item.label}
          </Anchor>
          <Text size="sm" c="dimmed">
            {item.description}
          </Text>
        </Stack>
      </Group>
    </Card>
  );
}
