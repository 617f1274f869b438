import {
  Button,
  Checkbox,
  Group,
  Modal,
  Paper,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import type { ModuleGrants, Profile, Role } from '../../api/types';
import type { Query } from '../../api/use-api';
import { useSubmit } from '../../api/use-submit';
import { ConfirmModal } from '../../components/confirm-modal';
import { ErrorAlert } from '../../components/error-alert';
import { FormActions } from '../../components/form-actions';
import { SectionLoader } from '../../components/loading-state';
import { useSession } from '../../session/session-context';
import { GRANT_LABELS, GRANTS, type Grant, ROLE_MODULES } from './role-modules';

type Editing = { kind: 'create' } | { kind: 'edit'; profile: Profile } | { kind: 'delete'; profile: Profile };

/** Profiles: what a role may do in each module. Edit a profile's name, description and permissions. */
export function ProfilesPanel({ profiles, roles }: { profiles: Query<{ items: Profile[] }>; roles: Role[] }) {
  const [editing, setEditing] = useState<Editing | null>(null);
  const close = () => setEditing(null);
  const usedBy = (p: Profile) => roles.filter((r) => r.profileIds.includes(p.id)).map((r) => r.name);
  return (
    <>
      <ErrorAlert error={profiles.error} title="The profiles cannot be shown" onRetry={profiles.reload} />
      {profiles.loading && !profiles.data && <SectionLoader label="Loading profiles" />}
      {profiles.data && (
        <Paper withBorder maw={880}>
          <Table verticalSpacing="sm" aria-label="Profiles">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Profile</Table.Th>
                <Table.Th>Used by</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {profiles.data.items.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {p.name}
                    </Text>
                    {p.description && <Text size="xs">{p.description}</Text>}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{usedBy(p).join(', ') || 'No role'}</Text>
                  </Table.Td>
                  <Table.Td ta="right">
                    <Group gap="xs" justify="flex-end" wrap="nowrap">
                      <Button
                        size="xs"
                        variant="light"
                        aria-label={`Edit the profile ${p.name}`}
                        onClick={() => setEditing({ kind: 'edit', profile: p })}
                      >
                        Edit
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        aria-label={`Delete the profile ${p.name}`}
                        onClick={() => setEditing({ kind: 'delete', profile: p })}
                      >
                        Delete
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group p="sm">
            <Button
              size="xs"
              variant="light"
              leftSection={<IconPlus size={14} />}
              onClick={() => setEditing({ kind: 'create' })}
            >
              New profile
            </Button>
          </Group>
        </Paper>
      )}
      {editing?.kind === 'create' && <ProfileModal onClose={close} onSaved={profiles.reload} />}
      {editing?.kind === 'edit' && (
        <ProfileModal profile={editing.profile} onClose={close} onSaved={profiles.reload} />
      )}
      {editing?.kind === 'delete' && (
        <DeleteProfileModal profile={editing.profile} onClose={close} onDeleted={profiles.reload} />
      )}
    </>
  );
}

const NONE: ModuleGrants = { view: false, create: false, edit: false, delete: false };

function ProfileModal({
  profile,
  onClose,
  onSaved,
}: {
  profile?: Profile;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { api } = useSession();
  const [name, setName] = useState(profile?.name ?? '');
  const [description, setDescription] = useState(profile?.description ?? '');
  const [perms, setPerms] = useState<Record<string, ModuleGrants>>(() =>
    Object.fromEntries(ROLE_MODULES.map((m) => [m.value, { ...(profile?.permissions[m.value] ?? NONE) }])),
  );

  // doing anything in a module needs seeing it; not seeing it takes everything else away
  const toggle = (module: string, grant: Grant, on: boolean) =>
    setPerms((all) => {
      const next = { ...all[module]!, [grant]: on };
      if (grant === 'view' && !on) Object.assign(next, NONE);
      if (grant !== 'view' && on) next.view = true;
      return { ...all, [module]: next };
    });

  const { onSubmit, busy, error } = useSubmit(
    async () => {
      const body = { name: name.trim(), description: description.trim(), permissions: perms };
      if (profile) await api.patch(`profiles/${profile.id}`, body);
      else await api.post('profiles', body);
      return body.name;
    },
    {
      success: (saved) => (profile ? `The profile ${saved} is saved.` : `The profile ${saved} was created.`),
      onDone: () => {
        onSaved();
        onClose();
      },
    },
  );

  return (
    <Modal
      opened
      onClose={onClose}
      title={profile ? `Edit the profile ${profile.name}` : 'New profile'}
      size="lg"
    >
      <form onSubmit={onSubmit}>
        <Stack>
          <TextInput
            label="Profile name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <Textarea
            label="Description"
            maxLength={500}
            autosize
            minRows={1}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
          />
          <Table aria-label="Module permissions" withTableBorder>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Module</Table.Th>
                {GRANTS.map((g) => (
                  <Table.Th key={g} ta="center">
                    {GRANT_LABELS[g]}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {ROLE_MODULES.map((m) => (
                <Table.Tr key={m.value}>
                  <Table.Td>{m.label}</Table.Td>
                  {GRANTS.map((g) => (
                    <Table.Td key={g} ta="center">
                      <Checkbox
                        style={{ display: 'inline-block' }}
                        aria-label={`${GRANT_LABELS[g]} ${m.label}`}
                        checked={perms[m.value]![g]}
                        onChange={(e) => toggle(m.value, g, e.currentTarget.checked)}
                      />
                    </Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <FormActions error={error} errorTitle="The profile was not saved" onCancel={onClose} busy={busy}>
            {profile ? 'Save profile' : 'Create profile'}
          </FormActions>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteProfileModal({
  profile,
  onClose,
  onDeleted,
}: {
  profile: Profile;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const { api } = useSession();
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Delete the profile ${profile.name}?`}
      confirmLabel="Delete profile"
      danger
      onConfirm={async () => {
        await api.del(`profiles/${profile.id}`);
        notifications.show({ color: 'green', message: `The profile ${profile.name} was deleted.` });
        onDeleted();
      }}
    >
      A profile that a role still uses cannot be deleted: take it off those roles first.
    </ConfirmModal>
  );
}
