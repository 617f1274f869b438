const last = new WeakMap<object, Map<string, number>>();

/**
 * Whether the upkeep task `name` of `owner` (a process's context) is due at `now`, at most once every `ms`;
 * answering true marks it done. For deletions of rows that no longer count (expired sessions, attempts past
 * their window): queries ignore those rows anyway, so deleting them on every request only adds a write.
 * A clock that went back makes it due at once.
 */
export function upkeepDue(owner: object, name: string, now: number, ms: number): boolean {
  let tasks = last.get(owner);
  if (!tasks) {
    tasks = new Map();
    last.set(owner, tasks);
  }
  const at = tasks.get(name);
  if (at !== undefined && now >= at && now - at < ms) return false;
  tasks.set(name, now);
  return true;
}
