import { Button, Card, Group, Select, SimpleGrid, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { UserView } from '../api/types';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';

export const DATE_FORMATS = [
  { value: 'yyyy-mm-dd', label: '2026-11-23 (yyyy-mm-dd)' },
  { value: 'mm-dd-yyyy', label: '11-23-2026 (mm-dd-yyyy)' },
  { value: 'dd-mm-yyyy', label: '23-11-2026 (dd-mm-yyyy)' },
];
export const LANGUAGES = [
  { value: 'en_us', label: 'English (US)' },
  { value: 'en_gb', label: 'English (UK)' },
  { value: 'de_de', label: 'Deutsch' },
  { value: 'fr_fr', label: 'Français' },
  { value: 'es_es', label: 'Español' },
  { value: 'pt_br', label: 'Português (Brasil)' },
];
// Chromium leaves UTC out of its list; the server accepts it and uses it as the default
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

/** Name and preferences; every user may change these on their own record. */
export function ProfileForm({ user, onSaved }: { user: UserView; onSaved: () => void }) {
  const { api } = useSession();
  const [form, setForm] = useState({
    firstName: user.firstName,
    lastName: user.lastName,
    timeZone: user.timeZone,
    dateFormat: user.dateFormat,
    language: user.language,
  });
  const set = (k: keyof typeof form) => (v: string | null) => setForm((f) => ({ ...f, [k]: v ?? '' }));

  const { onSubmit, busy, error } = useSubmit(() => api.patch('users/me', form), {
    success: 'Your preferences are saved.',
    onDone: onSaved,
  });

  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="profile-title">
      <form onSubmit={onSubmit}>
        <Stack>
          <Title order={2} size="h4" id="profile-title">
            Profile and preferences
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Username" value={user.username} readOnly disabled />
            <TextInput
              label="First name"
              value={form.firstName}
              onChange={(e) => set('firstName')(e.currentTarget.value)}
            />
            <TextInput
              label="Last name"
              required
              value={form.lastName}
              onChange={(e) => set('lastName')(e.currentTarget.value)}
            />
            <Select
              label="Time zone"
              searchable
              data={TIME_ZONES.includes(form.timeZone) ? TIME_ZONES : [form.timeZone, ...TIME_ZONES]}
              value={form.timeZone}
              onChange={set('timeZone')}
              allowDeselect={false}
            />
            <Select
              label="Date format"
              data={DATE_FORMATS}
              value={form.dateFormat}
              onChange={set('dateFormat')}
              allowDeselect={false}
            />
            <Select
              label="Language"
              data={LANGUAGES}
              value={form.language}
              onChange={set('language')}
              allowDeselect={false}
            />
          </SimpleGrid>
          <ErrorAlert error={error} title="Your preferences were not saved" />
          <Group justify="flex-end">
            <Button type="submit" loading={busy}>
              Save preferences
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
