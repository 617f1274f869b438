import { Anchor, Avatar, Menu, Modal, Stack, Text, UnstyledButton } from '@mantine/core';
import { IconInfoCircle, IconLogout, IconSettings, IconUserCog } from '@tabler/icons-react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { fullName } from '../format';
import { useMe, useSession } from '../session/session-context';

export function UserMenu() {
  const me = useMe();
  const { signOut, caps } = useSession();
  const [aboutOpen, setAboutOpen] = useState(false);
  const navigate = useNavigate();
  const name = fullName(me.user);
  const initials = name
    .split(/\s+/)
    .map((p) => p[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
  return (
    <>
      <Menu position="bottom-end" width={220} withinPortal>
        <Menu.Target>
          <UnstyledButton aria-label={`User menu for ${name}`} data-testid="user-menu">
            <Avatar color="indigo" radius="xl" size="md">
              {initials}
            </Avatar>
          </UnstyledButton>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>
            <Text size="sm" fw={600} c="dark">
              {name}
            </Text>
            <Text size="xs" c="dimmed">
              {me.user.email}
            </Text>
          </Menu.Label>
          <Menu.Divider />
          <Menu.Item leftSection={<IconSettings size={16} />} onClick={() => navigate('/settings')}>
            Settings
          </Menu.Item>
          <Menu.Item
            leftSection={<IconUserCog size={16} />}
            onClick={() => navigate('/settings/preferences')}
          >
            My Preferences
          </Menu.Item>
          <Menu.Item leftSection={<IconInfoCircle size={16} />} onClick={() => setAboutOpen(true)}>
            About Rapport
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item
            leftSection={<IconLogout size={16} />}
            onClick={async () => {
              await signOut();
              navigate('/login');
            }}
          >
            Log out
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
      <Modal opened={aboutOpen} onClose={() => setAboutOpen(false)} title="About Rapport">
        <Stack gap="xs">
          <Text data-testid="about-version">Version {caps.version ?? 'unknown'}</Text>
          <Text size="sm" c="dimmed">
            A self-hosted CRM server: users and their API access, REST and Vtiger-compatible web services.
          </Text>
          <Anchor href="/api/docs" target="_blank" size="sm">
            API documentation
          </Anchor>
        </Stack>
      </Modal>
    </>
  );
}
