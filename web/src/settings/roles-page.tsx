import { Tabs } from '@mantine/core';
import { useSearchParams } from 'react-router';
import type { Profile, Role } from '../api/types';
import { useApi } from '../api/use-api';
import { PageHeader } from '../components/page-header';
import { ProfilesPanel } from './roles/profiles-panel';
import { RoleTree } from './roles/role-tree';
import { SharingPanel } from './roles/sharing-panel';

const TABS = ['roles', 'profiles', 'sharing'] as const;

/** Roles, profiles and sharing defaults: who sees whose records, and what each role may do. */
export function RolesPage() {
  const roles = useApi<{ items: Role[] }>('roles');
  const profiles = useApi<{ items: Profile[] }>('profiles');
  const [params, setParams] = useSearchParams();
  const tab = TABS.find((t) => t === params.get('tab')) ?? 'roles';
  return (
    <>
      <PageHeader
        title="Roles"
        description="Users in a role see their own records and those of users in the roles below it. Profiles decide what each role may do in each module; sharing defaults open modules to everyone."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'User Management' }, { label: 'Roles' }]}
      />
      <Tabs
        value={tab}
        onChange={(t) => setParams(t && t !== 'roles' ? { tab: t } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="roles">Role hierarchy</Tabs.Tab>
          <Tabs.Tab value="profiles">Profiles</Tabs.Tab>
          <Tabs.Tab value="sharing">Sharing defaults</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="roles">
          <RoleTree roles={roles} profiles={profiles.data?.items ?? []} />
        </Tabs.Panel>
        <Tabs.Panel value="profiles">
          <ProfilesPanel
            profiles={{
              ...profiles,
              reload: () => {
                profiles.reload();
                roles.reload();
              },
            }}
            roles={roles.data?.items ?? []}
          />
        </Tabs.Panel>
        <Tabs.Panel value="sharing">
          <SharingPanel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
