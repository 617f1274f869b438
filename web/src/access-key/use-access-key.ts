import { notifications } from '@mantine/notifications';
import { useCallback, useState } from 'react';
import type { AccessKeyView } from '../api/types';
import { useApi } from '../api/use-api';
import { useSession } from '../session/session-context';

export type KeyOwner = number | 'me';

/**
 * One user's access key with the actions on it; shared by My Preferences and the user record. The page
 * loads only the key's status; the key itself is fetched (and the reveal audited) when the user shows or
 * copies it.
 */
export function useAccessKey(owner: KeyOwner, enabled = true) {
  const { api } = useSession();
  const path = `users/${owner}/access-key`;
  const query = useApi<AccessKeyView>(enabled ? `${path}?reveal=false` : null);
  const [revealed, setRevealed] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);

  const fetchSecret = useCallback(async (): Promise<string | null> => {
    const full = await api.get<AccessKeyView>(path);
    setSecret(full.accessKey);
    return full.accessKey;
  }, [api, path]);

  const reveal = useCallback(async () => {
    if (secret === null) await fetchSecret();
    setRevealed(true);
  }, [secret, fetchSecret]);

  const regenerate = useCallback(async () => {
    const next = await api.post<AccessKeyView>(`${path}/regenerate`);
    query.setData(next);
    setSecret(next.accessKey);
    setRevealed(true);
    notifications.show({
      color: 'green',
      title: 'New access key created',
      message:
        owner === 'me'
          ? (next.reminder ?? 'The old key no longer works. Replace it in every integration that used it.')
          : 'The old key no longer works. The user must replace it in every integration and extension that used it.',
    });
  }, [api, path, owner, query.setData]);

  const setApiAccess = useCallback(
    async (on: boolean) => {
      const next = await api.put<AccessKeyView>(`users/${owner}/api-access`, { enabled: on });
      query.setData(next);
      // turning access on may issue a key; what we show must be the current one
      setSecret(next.accessKey);
      notifications.show({
        color: on ? 'green' : 'gray',
        title: on ? 'API access turned on' : 'API access turned off',
        message: on
          ? 'Integrations can now use this access key.'
          : 'Every integration using this key now fails until API access is turned on again.',
      });
    },
    [api, owner, query.setData],
  );

  return { ...query, revealed, setRevealed, reveal, secret, fetchSecret, regenerate, setApiAccess };
}

export type AccessKeyState = ReturnType<typeof useAccessKey>;
