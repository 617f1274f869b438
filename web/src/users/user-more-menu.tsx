import { Button, Menu } from '@mantine/core';
import {
  IconChevronDown,
  IconEdit,
  IconKey,
  IconLogin,
  IconPassword,
  IconRestore,
  IconTrash,
  IconUserEdit,
} from '@tabler/icons-react';
import type { UserView } from '../api/types';
import { useMe, useSession } from '../session/session-context';
import { EditUserModal } from './edit-user-modal';
import { ChangePasswordModal, ChangeUsernameModal } from './user-edit-modals';
import { DeleteUserModal, ImpersonateModal, PurgeUserModal, RestoreUserModal } from './user-lifecycle-modals';

export type UserAction =
  | 'edit'
  | 'change-key'
  | 'password'
  | 'username'
  | 'impersonate'
  | 'delete'
  | 'restore'
  | 'purge';

/** The seeds' "More" menu on a user record; each action appears only when the server offers it. */
export function UserMoreMenu({
  user,
  onAction,
  canChangeKey,
}: {
  user: UserView;
  onAction: (a: UserAction) => void;
  canChangeKey: boolean;
}) {
  const me = useMe();
  const { can } = useSession();
  const self = me.user.id === user.id;
  const deleted = Boolean(user.deletedAt);
  return (
    <Menu position="bottom-end" width={240}>
      <Menu.Target>
        <Button variant="default" rightSection={<IconChevronDown size={16} />}>
          More
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        {!deleted && (
          <Menu.Item leftSection={<IconEdit size={16} />} onClick={() => onAction('edit')}>
            Edit details
          </Menu.Item>
        )}
        {canChangeKey && !deleted && (
          <Menu.Item leftSection={<IconKey size={16} />} onClick={() => onAction('change-key')}>
            Regenerate access key
          </Menu.Item>
        )}
        {can('changePassword') && !deleted && (
          <Menu.Item leftSection={<IconPassword size={16} />} onClick={() => onAction('password')}>
            Change Password
          </Menu.Item>
        )}
        {!deleted && (
          <Menu.Item leftSection={<IconUserEdit size={16} />} onClick={() => onAction('username')}>
            Change Username
          </Menu.Item>
        )}
        {can('impersonate') && !self && !deleted && !me.impersonatedBy && (
          <Menu.Item leftSection={<IconLogin size={16} />} onClick={() => onAction('impersonate')}>
            Log in as {user.username}
          </Menu.Item>
        )}
        {can('deleteUser') && !self && !deleted && (
          <>
            <Menu.Divider />
            <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => onAction('delete')}>
              Delete
            </Menu.Item>
          </>
        )}
        {can('restoreUser') && deleted && (
          <Menu.Item leftSection={<IconRestore size={16} />} onClick={() => onAction('restore')}>
            Restore
          </Menu.Item>
        )}
        {can('deleteUser') && deleted && (
          <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => onAction('purge')}>
            Delete permanently
          </Menu.Item>
        )}
      </Menu.Dropdown>
    </Menu>
  );
}

export function UserActionDialogs({
  user,
  action,
  onClose,
  onChanged,
}: {
  user: UserView;
  action: UserAction | null;
  onClose: () => void;
  onChanged: () => void;
}) {
  return (
    <>
      {action === 'edit' && <EditUserModal user={user} opened onClose={onClose} onChanged={onChanged} />}
      <ChangePasswordModal user={user} opened={action === 'password'} onClose={onClose} />
      <ChangeUsernameModal
        user={user}
        opened={action === 'username'}
        onClose={onClose}
        onChanged={onChanged}
      />
      <ImpersonateModal user={user} opened={action === 'impersonate'} onClose={onClose} />
      <DeleteUserModal user={user} opened={action === 'delete'} onClose={onClose} />
      <RestoreUserModal user={user} opened={action === 'restore'} onClose={onClose} onChanged={onChanged} />
      <PurgeUserModal user={user} opened={action === 'purge'} onClose={onClose} />
    </>
  );
}
