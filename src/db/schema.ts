import type {
  AccessKeyTable,
  AccessKeyUsageTable,
  AuthVersionTable,
} from '../access-keys/access-key.table.js';
import type { AuditLogTable } from '../audit/audit.table.js';
import type { ImpersonationConsentTable } from '../auth/impersonation.table.js';
import type { AuthFailureTable, RateCountTable, SessionTable } from '../auth/session.table.js';
import type { DomainEventTable } from '../events/event.table.js';
import type { MailOutboxTable, MailQueueTable } from '../mail/mail.table.js';
import type {
  MailroomFolderStateTable,
  MailroomMailboxTable,
  MailroomMessageTable,
  MailroomRuleTable,
} from '../mailroom/mailroom.table.js';
import type { MaskingRuleRoleTable, MaskingRuleTable, ProfileUnmaskTable } from '../masking/masking.table.js';
import type { MasterKeyCheckTable } from '../platform/master-key.table.js';
import type {
  CrmEntityTable,
  CustomFieldTable,
  LeadConversionTable,
  QuoteLineItemTable,
  RecordSequenceTable,
  SearchTermTable,
} from '../records/record.table.js';
import type { RecordChangeTable } from '../records/record-history.table.js';
import type { ReportScheduleTable, ReportTable } from '../reports/report.table.js';
import type {
  ProfilePermissionTable,
  ProfileTable,
  RoleProfileTable,
  RoleTable,
  SharingDefaultTable,
} from '../roles/role.table.js';
import type { SettingsTable } from '../settings/settings.table.js';
import type { SetupChecklistTable } from '../setup-checklist/setup-checklist.table.js';
import type { UserTable } from '../users/user.table.js';
import type { UserTokenTable } from '../users/user-token.table.js';
import type {
  WebhookAttemptTable,
  WebhookDeliveryTable,
  WebhookEventTable,
  WebhookPayloadTable,
  WebhookTable,
} from '../webhooks/webhook.table.js';
import type {
  WsChallengeTable,
  WsChallengeTokenTable,
  WsSessionTable,
} from '../webservices/ws-session.table.js';

export interface Database {
  master_key_check: MasterKeyCheckTable;
  users: UserTable;
  roles: RoleTable;
  profiles: ProfileTable;
  role_profiles: RoleProfileTable;
  profile_permissions: ProfilePermissionTable;
  sharing_defaults: SharingDefaultTable;
  sessions: SessionTable;
  auth_failures: AuthFailureTable;
  rate_counts: RateCountTable;
  auth_version: AuthVersionTable;
  audit_log: AuditLogTable;
  crm_entities: CrmEntityTable;
  record_sequences: RecordSequenceTable;
  record_custom_fields: CustomFieldTable;
  quote_line_items: QuoteLineItemTable;
  ws_challenges: WsChallengeTable;
  ws_challenge_tokens: WsChallengeTokenTable;
  ws_sessions: WsSessionTable;
  access_keys: AccessKeyTable;
  access_key_usage: AccessKeyUsageTable;
  user_tokens: UserTokenTable;
  mail_queue: MailQueueTable;
  mail_outbox: MailOutboxTable;
  impersonation_consents: ImpersonationConsentTable;
  settings: SettingsTable;
  setup_checklist: SetupChecklistTable;
  record_changes: RecordChangeTable;
  domain_events: DomainEventTable;
  lead_conversions: LeadConversionTable;
  search_terms: SearchTermTable;
  masking_rules: MaskingRuleTable;
  masking_rule_roles: MaskingRuleRoleTable;
  profile_unmask: ProfileUnmaskTable;
  webhooks: WebhookTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_payloads: WebhookPayloadTable;
  webhook_attempts: WebhookAttemptTable;
  mailroom_mailboxes: MailroomMailboxTable;
  mailroom_folder_state: MailroomFolderStateTable;
  mailroom_rules: MailroomRuleTable;
  mailroom_messages: MailroomMessageTable;
  reports: ReportTable;
  report_schedules: ReportScheduleTable;
}
