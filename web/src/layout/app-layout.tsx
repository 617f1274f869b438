import { Anchor, AppShell, Container, Group, Text } from '@mantine/core';
import { IconAddressBook } from '@tabler/icons-react';
import { Suspense, useEffect } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { ErrorBoundary } from '../components/error-boundary';
import { SectionLoader } from '../components/loading-state';
import { languageTag } from '../format';
import { useMe, useSession } from '../session/session-context';
import { GlobalSearch } from './global-search';
import { ImpersonationBanner } from './impersonation-banner';
import { MainNav, PhoneNav, useNavModules } from './main-nav';
import { UserMenu } from './user-menu';

export function AppLayout() {
  const me = useMe();
  const { can } = useSession();
  const { pathname } = useLocation();
  const modules = useNavModules();
  useEffect(() => {
    document.documentElement.lang = languageTag(me.user.language);
  }, [me.user.language]);

  return (
    <AppShell header={{ height: 56 }} padding={0}>
      <AppShell.Header>
        <Anchor href="#main" className="skip-link">
          Skip to content
        </Anchor>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <PhoneNav modules={modules} />
            <Anchor component={Link} to="/" underline="never" c="inherit" aria-label="Rapport home">
              <Group gap={6} wrap="nowrap">
                <IconAddressBook aria-hidden size={24} color="var(--mantine-color-indigo-6)" />
                <Text fw={700} size="lg">
                  Rapport
                </Text>
              </Group>
            </Anchor>
            <MainNav modules={modules} />
          </Group>
          <Group gap="sm" wrap="nowrap">
            {can('search') && <GlobalSearch modules={modules} />}
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <ImpersonationBanner />
        {/* AppShell.Main is the page's one <main>; the container inside it is a plain block */}
        <Container size="xl" py="lg" px={{ base: 'sm', sm: 'lg' }} id="main" tabIndex={-1}>
          <ErrorBoundary key={pathname}>
            <Suspense fallback={<SectionLoader label="Loading the page" />}>
              <Outlet />
            </Suspense>
          </ErrorBoundary>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
