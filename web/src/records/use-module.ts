import { useMemo } from 'react';
import type { Page, UserView } from '../api/types';
import { useApi } from '../api/use-api';
import { fullName } from '../format';
import type { ModuleDescription } from './record-types';

export function useModule(module: string) {
  return useApi<ModuleDescription>(`modules/${encodeURIComponent(module)}`);
}

/** Active users by id, for owner fields. */
export function useUserNames() {
  const users = useApi<Page<UserView>>('users?limit=200');
  const names = useMemo(
    () => new Map((users.data?.items ?? []).map((u) => [u.id, fullName(u)] as const)),
    [users.data],
  );
  return { names, users: users.data?.items ?? [] };
}
