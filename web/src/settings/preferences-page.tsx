import { Alert, Stack } from '@mantine/core';
import { AccessKeyPanel } from '../access-key/access-key-panel';
import { useAccessKey } from '../access-key/use-access-key';
import { PageHeader } from '../components/page-header';
import { useMe, useSession } from '../session/session-context';
import { MyWebhooksPanel } from '../webhooks/my-webhooks-panel';
import { ChangePasswordForm } from './change-password-form';
import { EmailPanel } from './email-panel';
import { ImpersonationRequestsPanel } from './impersonation-requests-panel';
import { ProfileForm } from './profile-form';

export function PreferencesPage() {
  const me = useMe();
  const { can, refresh } = useSession();
  const impersonating = Boolean(me.impersonatedBy);
  const showKey = can('accessKeys') && !impersonating;
  const key = useAccessKey('me', showKey);

  return (
    <>
      <PageHeader
        title="My Preferences"
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'My Preferences' }]}
      />
      <Stack maw={880}>
        <ProfileForm key={me.user.updatedAt} user={me.user} onSaved={() => void refresh()} />
        {!impersonating && (
          <EmailPanel key={`email-${me.user.updatedAt}`} user={me.user} onSaved={() => void refresh()} />
        )}
        {can('impersonationRequests') && !impersonating && <ImpersonationRequestsPanel />}
        {showKey && <AccessKeyPanel state={key} whose="your" timeZone={me.user} />}
        {can('webhooks') && <MyWebhooksPanel />}
        {can('changePassword') && !impersonating && <ChangePasswordForm />}
        {impersonating && (
          <Alert color="orange" title="Not while logged in as someone else">
            The access key and password of {me.user.username} cannot be seen or changed while you are logged
            in as them.
          </Alert>
        )}
      </Stack>
    </>
  );
}
