import {
  Button,
  Card,
  Group,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useSession } from '../session/session-context';

interface OrgSettings {
  company: Record<
    'name' | 'street' | 'city' | 'postalCode' | 'country' | 'phone' | 'website' | 'email',
    string
  >;
  defaultCurrency: string;
  defaultTimeZone: string;
  passwordPolicy: { minLength: number; rejectUserDetails: boolean };
  impersonation: { requireConsent: boolean; maxMinutes: number };
}

const COMPANY_FIELDS: Array<[keyof OrgSettings['company'], string]> = [
  ['name', 'Company name'],
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['website', 'Website'],
  ['street', 'Street'],
  ['city', 'City'],
  ['postalCode', 'Postal code'],
  ['country', 'Country'],
];
const currencyNames = new Intl.DisplayNames(['en'], { type: 'currency' });
/** The same ISO 4217 list the server checks against (Intl's), so the form cannot offer junk such as "DOL". */
const CURRENCIES = Intl.supportedValuesOf('currency').map((code) => ({
  value: code,
  label: `${code} — ${currencyNames.of(code) ?? code}`,
}));
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

/** CRM-wide settings: company details, defaults, password policy and the "log in as" rules. */
export function CompanySettingsPage() {
  const settings = useApi<OrgSettings>('settings');
  return (
    <>
      <PageHeader
        title="Company settings"
        description="Details and defaults that apply to everyone in this CRM."
        crumbs={[{ label: 'Settings', to: '/settings' }, { label: 'Company settings' }]}
      />
      <ErrorAlert error={settings.error} title="The settings cannot be shown" onRetry={settings.reload} />
      {settings.loading && !settings.data && <SectionLoader label="Loading the settings" />}
      {settings.data && <SettingsForm initial={settings.data} onSaved={settings.setData} />}
    </>
  );
}

function SettingsForm({ initial, onSaved }: { initial: OrgSettings; onSaved: (s: OrgSettings) => void }) {
  const { api } = useSession();
  const [s, setS] = useState(initial);

  const { onSubmit, busy, error } = useSubmit(() => api.put<OrgSettings>('settings', s), {
    success: 'The settings are saved.',
    onDone: (saved) => {
      onSaved(saved);
      setS(saved);
    },
  });

  return (
    <form onSubmit={onSubmit}>
      <Stack maw={880}>
        <Card withBorder padding="lg" component="section" aria-labelledby="company-title">
          <Title order={2} size="h4" id="company-title" mb="sm">
            Company details
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {COMPANY_FIELDS.map(([key, label]) => (
              <TextInput
                key={key}
                label={label}
                type={key === 'email' ? 'email' : undefined}
                value={s.company[key]}
                onChange={(e) => setS({ ...s, company: { ...s.company, [key]: e.currentTarget.value } })}
              />
            ))}
          </SimpleGrid>
        </Card>
        <Card withBorder padding="lg" component="section" aria-labelledby="defaults-title">
          <Title order={2} size="h4" id="defaults-title" mb="sm">
            Defaults
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label="Default currency"
              description="An ISO 4217 currency; type a code or a name"
              searchable
              allowDeselect={false}
              nothingFoundMessage="No currency has that code or name"
              data={CURRENCIES}
              value={s.defaultCurrency}
              onChange={(v) => setS({ ...s, defaultCurrency: v ?? s.defaultCurrency })}
            />
            <Select
              label="Default time zone"
              searchable
              allowDeselect={false}
              data={TIME_ZONES.includes(s.defaultTimeZone) ? TIME_ZONES : [s.defaultTimeZone, ...TIME_ZONES]}
              value={s.defaultTimeZone}
              onChange={(v) => setS({ ...s, defaultTimeZone: v ?? s.defaultTimeZone })}
            />
          </SimpleGrid>
        </Card>
        <Card withBorder padding="lg" component="section" aria-labelledby="security-title">
          <Title order={2} size="h4" id="security-title" mb="sm">
            Passwords and “log in as”
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label="Minimum password length"
              description="12 or more"
              min={12}
              max={128}
              value={s.passwordPolicy.minLength}
              onChange={(v) =>
                setS({ ...s, passwordPolicy: { ...s.passwordPolicy, minLength: Number(v) || 12 } })
              }
            />
            <NumberInput
              label="“Log in as” ends after (minutes)"
              description="5 to 60"
              min={5}
              max={60}
              value={s.impersonation?.maxMinutes ?? 60}
              onChange={(v) =>
                setS({ ...s, impersonation: { ...s.impersonation, maxMinutes: Number(v) || 60 } })
              }
            />
          </SimpleGrid>
          <Stack mt="md" gap="sm">
            <Switch
              label="Refuse passwords that contain the user's username, name or email"
              checked={s.passwordPolicy.rejectUserDetails}
              onChange={(e) =>
                setS({
                  ...s,
                  passwordPolicy: { ...s.passwordPolicy, rejectUserDetails: e.currentTarget.checked },
                })
              }
            />
            <Switch
              label="An administrator may log in as a user only after the user agrees"
              checked={s.impersonation?.requireConsent ?? false}
              onChange={(e) =>
                setS({ ...s, impersonation: { ...s.impersonation, requireConsent: e.currentTarget.checked } })
              }
            />
          </Stack>
        </Card>
        <ErrorAlert error={error} title="The settings were not saved" />
        <Group justify="flex-end">
          <Button type="submit" loading={busy}>
            Save settings
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
