import { z } from 'zod';
import {
  DEFAULT_PASSWORD_POLICY,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../auth/password-policy.js';
import { timeZoneSchema } from '../users/user.model.js';

const text = (max: number) => z.string().trim().max(max);

/** ISO 4217 codes as the runtime's Intl knows them ("DOL" or "XYZ" are not currencies). */
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
export const currencySchema = z
  .string()
  .refine((c) => CURRENCIES.has(c), {
    error: (iss) => `${JSON.stringify(iss.input)} is not an ISO 4217 currency code (such as EUR, USD or GBP)`,
  })
  .describe('an ISO 4217 currency code in capitals, such as EUR');

export const companySchema = z.object({
  name: text(200),
  street: text(200),
  city: text(100),
  postalCode: text(20),
  country: text(100),
  phone: text(50),
  website: text(200),
  email: z.union([z.email().max(254), z.literal('')]),
});

export const passwordPolicySchema = z.object({
  minLength: z
    .number()
    .int()
    .min(PASSWORD_MIN_LENGTH, `can only be raised: at least ${PASSWORD_MIN_LENGTH}`)
    .max(PASSWORD_MAX_LENGTH),
  rejectUserDetails: z.boolean().describe("refuse passwords containing the user's username, name or email"),
});

export const impersonationSettingsSchema = z.object({
  requireConsent: z
    .boolean()
    .describe('an admin may log in as a user only after that user approves a request'),
  maxMinutes: z
    .number()
    .int()
    .min(5)
    .max(60)
    .describe('a "log in as" session ends after this long (at most 1 hour)'),
});

export const settingsSchema = z
  .object({
    company: companySchema,
    defaultCurrency: currencySchema,
    defaultTimeZone: timeZoneSchema,
    passwordPolicy: passwordPolicySchema,
    impersonation: impersonationSettingsSchema,
  })
  .meta({ id: 'Settings' });

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsSection = keyof Settings;
export const SETTINGS_SECTIONS = Object.keys(settingsSchema.shape) as SettingsSection[];

/** What any signed-in user may read (the UI needs company, currency, time zone and the password rules). */
export const PUBLIC_SECTIONS: SettingsSection[] = [
  'company',
  'defaultCurrency',
  'defaultTimeZone',
  'passwordPolicy',
];

export const DEFAULT_SETTINGS: Settings = {
  company: { name: '', street: '', city: '', postalCode: '', country: '', phone: '', website: '', email: '' },
  defaultCurrency: 'USD',
  defaultTimeZone: 'UTC',
  passwordPolicy: DEFAULT_PASSWORD_POLICY,
  impersonation: { requireConsent: false, maxMinutes: 60 },
};

/** PUT accepts any subset of sections, and any subset of a section's fields; the rest keep their values. */
export const settingsPatchSchema = z
  .object({
    company: companySchema.partial().strict(),
    defaultCurrency: settingsSchema.shape.defaultCurrency,
    defaultTimeZone: timeZoneSchema,
    passwordPolicy: passwordPolicySchema.partial().strict(),
    impersonation: impersonationSettingsSchema.partial().strict(),
  })
  .partial()
  .strict();
