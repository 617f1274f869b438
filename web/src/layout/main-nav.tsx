import { Anchor, Group } from '@mantine/core';
import { NavLink as RouterNavLink } from 'react-router';
import { useApi } from '../api/use-api';
import type { ModuleSummary } from '../records/record-types';
import { useSession } from '../session/session-context';

/** Top navigation: the record modules the user may open (once the records API exists), then Settings. */
export function MainNav() {
  const { can } = useSession();
  const modules = useApi<{ items: ModuleSummary[] }>(can('modules') ? 'modules' : null);
  const items = (modules.data?.items ?? [])
    .filter((m) => m.retrieveable)
    .sort((a, b) => rank(a.name) - rank(b.name))
    .slice(0, 6);
  return (
    <Group gap="md" visibleFrom="sm" component="nav" aria-label="Main">
      {items.map((m) => (
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

/** The modules a CRM user opens most come first in the header. */
const ORDER = ['Contacts', 'Accounts', 'Leads', 'Potentials', 'HelpDesk', 'Quotes', 'Products'];
function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}
