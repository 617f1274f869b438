import { Anchor, Burger, Drawer, Group, NavLink, Stack } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconHome, IconSettings } from '@tabler/icons-react';
import { useEffect } from 'react';
import { Link, NavLink as RouterNavLink, useLocation } from 'react-router';
import { useApi } from '../api/use-api';
import type { ModuleSummary } from '../records/record-types';
import { useSession } from '../session/session-context';

/** The record modules the user may open, most used first (once the records API exists). */
export function useNavModules(): ModuleSummary[] {
  const { can } = useSession();
  const modules = useApi<{ items: ModuleSummary[] }>(can('modules') ? 'modules' : null);
  return (modules.data?.items ?? [])
    .filter((m) => m.retrieveable)
    .sort((a, b) => rank(a.name) - rank(b.name));
}

/** Top navigation from the md breakpoint (992 px) up, where it fits on one line: the first six modules, then Settings. */
export function MainNav({ modules }: { modules: ModuleSummary[] }) {
  const { can } = useSession();
  return (
    <Group gap="md" visibleFrom="md" component="nav" aria-label="Main">
      {modules.slice(0, 6).map((m) => (
        <Anchor key={m.name} component={RouterNavLink} to={`/records/${m.name}`} size="sm" c="dark">
          {m.label}
        </Anchor>
      ))}
      {can('reports') && (
        <Anchor component={RouterNavLink} to="/reports" size="sm" c="dark">
          Reports
        </Anchor>
      )}
      <Anchor component={RouterNavLink} to="/settings" size="sm" c="dark">
        Settings
      </Anchor>
    </Group>
  );
}

/** Below the md breakpoint (phones, tablets): a menu button opening every page (home, all modules, settings) in a drawer. */
export function PhoneNav({ modules }: { modules: ModuleSummary[] }) {
  const [opened, { toggle, close }] = useDisclosure(false);
  const { pathname } = useLocation();
  const { can } = useSession();
  // a followed link closes the menu
  // biome-ignore lint/correctness/useExhaustiveDependencies: pathname is the trigger
  useEffect(() => close(), [pathname, close]);
  const active = (to: string) => pathname === to || pathname.startsWith(`${to}/`);
  return (
    <>
      <Burger
        opened={opened}
        onClick={toggle}
        hiddenFrom="md"
        size="sm"
        aria-label={opened ? 'Close menu' : 'Open menu'}
        aria-expanded={opened}
        aria-controls="phone-nav"
      />
      <Drawer opened={opened} onClose={close} title="Menu" size="xs" hiddenFrom="md" id="phone-nav">
        <Stack gap={2} component="nav" aria-label="Main">
          {can('records') && (
            <NavLink
              component={Link}
              to="/"
              label="Home"
              leftSection={<IconHome size={18} aria-hidden />}
              active={pathname === '/'}
            />
          )}
          {modules.map((m) => (
            <NavLink
              key={m.name}
              component={Link}
              to={`/records/${m.name}`}
              label={m.label}
              active={active(`/records/${m.name}`)}
            />
          ))}
          {can('reports') && (
            <NavLink component={Link} to="/reports" label="Reports" active={active('/reports')} />
          )}
          <NavLink
            component={Link}
            to="/settings"
            label="Settings"
            leftSection={<IconSettings size={18} aria-hidden />}
            active={active('/settings')}
          />
        </Stack>
      </Drawer>
    </>
  );
}

/** The modules a CRM user opens most come first in the header. */
const ORDER = ['Contacts', 'Accounts', 'Leads', 'Potentials', 'HelpDesk', 'Quotes', 'Products'];
function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}
