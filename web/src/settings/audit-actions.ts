/** Audit actions in words; unknown ones (from newer features) fall back to their code. */
const ACTIONS: Record<string, string> = {
  'auth.login': 'Signed in',
  'auth.logout': 'Signed out',
  'auth.access_key': 'Signed in with an access key',
  'auth.password_reset_requested': 'Asked for a password reset link',
  'access_key.viewed': 'Viewed an access key',
  'access_key.regenerated': 'Regenerated an access key',
  'access_key.cleared': 'Cleared an API key',
  'api_access.enabled': 'Turned API access on',
  'api_access.disabled': 'Turned API access off',
  // one entry per request an administrator made while logged in as someone (not a request to do so)
  'impersonation.request': 'Made a request while logged in as a user',
  'impersonation.consent_requested': 'Asked a user for consent to log in as them',
  'impersonation.started': 'Started logging in as a user',
  'impersonation.stopped': 'Stopped logging in as a user',
  'user.created': 'Created a user',
  'user.updated': 'Changed a user',
  'user.username_changed': 'Changed a username',
  'user.password_changed': 'Changed a password',
  'user.password_reset': 'Reset a password',
  'user.email_verified': 'Verified an email address',
  'user.verification_sent': 'Sent an email verification link',
  'user.deleted': 'Deleted a user',
  'user.deleted_permanently': 'Deleted a user permanently',
  'user.restored': 'Restored a user',
  'masking.rule_created': 'Masked a field',
  'masking.rule_changed': 'Changed a masking rule',
  'masking.rule_deleted': 'Stopped masking a field',
  'masking.unmask_changed': 'Changed who may unmask',
  'record.field_revealed': 'Revealed a masked value',
  'role.created': 'Created a role',
  'role.updated': 'Changed a role',
  'role.deleted': 'Deleted a role',
  'profile.created': 'Created a profile',
  'profile.updated': 'Changed a profile',
  'profile.deleted': 'Deleted a profile',
  'sharing.updated': 'Changed sharing rules',
  'settings.updated': 'Changed company settings',
  'setup_checklist.updated': 'Updated the setup checklist',
  'audit.exported': 'Exported the audit log',
};

export function describeAction(action: string): string {
  return ACTIONS[action] ?? action;
}

/** For the filter: each known action by its words. */
export const ACTION_OPTIONS = Object.entries(ACTIONS).map(([value, label]) => ({ value, label }));
