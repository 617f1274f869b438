import {
  IconApi,
  IconBook,
  IconBuilding,
  IconChecklist,
  IconDatabase,
  IconEyeOff,
  IconHierarchy2,
  IconInbox,
  IconKey,
  IconListSearch,
  IconMail,
  IconUserCog,
  IconUsers,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { Feature } from '../api/capabilities';

export interface SettingsItem {
  label: string;
  description: string;
  keywords: string;
  icon: ReactNode;
  /** an in-app path, or an external page when `external` */
  to: string;
  external?: boolean;
  adminOnly?: boolean;
  requires?: Feature;
}

export interface SettingsGroup {
  title: string;
  items: SettingsItem[];
}

/** Settings grouped as CRM admins expect; the home page hides what the user may not use. */
export const SETTINGS_GROUPS: SettingsGroup[] = [
  {
    title: 'My account',
    items: [
      {
        label: 'My Preferences',
        description: 'Your name, time zone, date format, language, password and access key.',
        keywords: 'profile password access key api key preferences language time zone',
        icon: <IconUserCog />,
        to: '/settings/preferences',
      },
    ],
  },
  {
    title: 'Company',
    items: [
      {
        label: 'Company settings',
        description: 'Company details, default currency and time zone, password rules, “log in as” rules.',
        keywords:
          'company organisation organization currency time zone password policy consent impersonation',
        icon: <IconBuilding />,
        to: '/settings/company',
        adminOnly: true,
        requires: 'orgSettings',
      },
    ],
  },
  {
    title: 'User Management',
    items: [
      {
        label: 'Users',
        description: 'Add users, change their access keys, passwords and usernames, log in as them, delete.',
        keywords: 'users access key password username log in as delete restore',
        icon: <IconUsers />,
        to: '/settings/users',
        adminOnly: true,
      },
      {
        label: 'Roles',
        description: 'The role hierarchy that decides whose records each user sees.',
        keywords: 'roles hierarchy profiles sharing permissions',
        icon: <IconHierarchy2 />,
        to: '/settings/roles',
        adminOnly: true,
      },
    ],
  },
  {
    title: 'API',
    items: [
      {
        label: 'API Management',
        description:
          'Users with API access, when their keys were last used, and their webhooks. Clear a key.',
        keywords: 'api access key clear webhooks integrations',
        icon: <IconKey />,
        to: '/settings/api-management',
        adminOnly: true,
        requires: 'apiManagement',
      },
      {
        label: 'API documentation',
        description: 'Interactive reference of the REST API, always in sync with this server.',
        keywords: 'api docs documentation openapi swagger rest',
        icon: <IconBook />,
        to: '/api/docs',
        external: true,
      },
    ],
  },
  {
    title: 'Data',
    items: [
      {
        label: 'Modules',
        description:
          'The record modules of this CRM: contacts, organizations, leads, deals, tickets and more.',
        keywords: 'modules fields records contacts',
        icon: <IconDatabase />,
        to: '/records',
        requires: 'modules',
      },
      {
        label: 'Masking',
        description:
          'Mask phone, email and text fields for every user or for chosen roles; who may reveal a value.',
        keywords: 'masking mask hide privacy gdpr phone email text field roles unmask reveal',
        icon: <IconEyeOff />,
        to: '/settings/masking',
        adminOnly: true,
        requires: 'masking',
      },
    ],
  },
  {
    title: 'Mail',
    items: [
      {
        label: 'Mail outbox',
        description: 'Every email Rapport has sent or queued, such as verification and password links.',
        keywords: 'mail email outbox smtp verification',
        icon: <IconMail />,
        to: '/settings/outbox',
        adminOnly: true,
        requires: 'outbox',
      },
      {
        label: 'Mailroom',
        description:
          'Incoming email becomes records: mailboxes, rules, autofill from the body, the processing log.',
        keywords: 'mailroom mail converter incoming email imap rules autofill scanner',
        icon: <IconInbox />,
        to: '/settings/mailroom',
        adminOnly: true,
        requires: 'mailroom',
      },
    ],
  },
  {
    title: 'Audit',
    items: [
      {
        label: 'Audit log',
        description: 'Who did what and when: sign-ins, key changes, user changes.',
        keywords: 'audit log history security events',
        icon: <IconListSearch />,
        to: '/settings/audit',
        adminOnly: true,
      },
    ],
  },
  {
    title: 'Setup checklist',
    items: [
      {
        label: 'Setup checklist',
        description: 'Identify a team, decide the scope, design the flow, configure and test.',
        keywords: 'setup checklist pilot implementation guide onboarding',
        icon: <IconChecklist />,
        to: '/settings/setup-checklist',
        adminOnly: true,
        requires: 'setupChecklist',
      },
    ],
  },
];

export const API_ICON = <IconApi />;
