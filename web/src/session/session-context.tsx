import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type ApiClient, ApiError, createApiClient } from '../api/api-client';
import { type Capabilities, type Feature, hasFeature, loadCapabilities } from '../api/capabilities';
import type { Me } from '../api/types';
import { FullPageLoader } from '../components/loading-state';

export interface SessionState {
  api: ApiClient;
  /** undefined while loading, null when signed out */
  me: Me | null | undefined;
  caps: Capabilities;
  can: (feature: Feature) => boolean;
  refresh: () => Promise<Me | null>;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const api = useMemo(() => createApiClient(() => setMe(null)), []);

  const refresh = useCallback(async () => {
    try {
      const current = await api.get<Me>('me');
      api.setCsrfToken(current.csrfToken);
      setMe(current);
      return current;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        api.setCsrfToken(null);
        setMe(null);
        return null;
      }
      throw err;
    }
  }, [api]);

  useEffect(() => {
    void loadCapabilities().then(setCaps);
    refresh().catch(() => setMe(null));
  }, [refresh]);

  const signIn = useCallback(
    async (username: string, password: string) => {
      const res = await api.post<{ csrfToken: string }>('auth/login', { username, password });
      api.setCsrfToken(res.csrfToken);
      await refresh();
    },
    [api, refresh],
  );

  const signOut = useCallback(async () => {
    try {
      await api.post('auth/logout');
    } finally {
      api.setCsrfToken(null);
      setMe(null);
    }
  }, [api]);

  const value = useMemo<SessionState | null>(
    () => (caps ? { api, me, caps, can: (f) => hasFeature(caps, f), refresh, signIn, signOut } : null),
    [api, me, caps, refresh, signIn, signOut],
  );
  if (!value) return <FullPageLoader />;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The signed-in user; only for pages behind the sign-in guard. */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe without a signed-in user');
  return me;
}
