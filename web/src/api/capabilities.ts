/**
 * Which API operations this server offers, read from its own OpenAPI document, so the UI shows an action
 * only when the server can do it (features land independently).
 */
export interface Capabilities {
  has(method: string, path: string): boolean;
  /** the server's version (package.json, via the OpenAPI `info.version`), for About */
  version: string | null;
}

export async function loadCapabilities(): Promise<Capabilities> {
  const ops = new Set<string>();
  let version: string | null = null;
  try {
    const res = await fetch('/api/openapi.json', { headers: { accept: 'application/json' } });
    const doc = (await res.json()) as {
      info?: { version?: string };
      paths?: Record<string, Record<string, unknown>>;
    };
    version = doc.info?.version ?? null;
    for (const [path, methods] of Object.entries(doc.paths ?? {})) {
      for (const method of Object.keys(methods)) ops.add(`${method.toUpperCase()} ${path}`);
    }
  } catch {
    // Without the document the UI still works; it just offers only what every server has.
  }
  return { has: (method, path) => ops.has(`${method.toUpperCase()} /api/v1${path}`), version };
}

/** Names for the optional features the screens check for. */
export const FEATURES = {
  accessKeys: ['GET', '/users/{id}/access-key'],
  apiManagement: ['GET', '/api-access/users'],
  changePassword: ['POST', '/users/{id}/password'],
  forgotPassword: ['POST', '/auth/forgot-password'],
  impersonationRequests: ['POST', '/users/{id}/impersonation-requests'],
  impersonate: ['POST', '/users/{id}/impersonate'],
  stopImpersonating: ['POST', '/auth/stop-impersonating'],
  deleteUser: ['DELETE', '/users/{id}'],
  restoreUser: ['POST', '/users/{id}/restore'],
  verificationEmail: ['POST', '/users/{id}/verification-email'],
  auditExport: ['GET', '/audit/export.csv'],
  outbox: ['GET', '/mail/outbox'],
  setupChecklist: ['GET', '/setup-checklist'],
  orgSettings: ['GET', '/settings'],
  records: ['GET', '/records/{module}'],
  modules: ['GET', '/modules'],
  webhooks: ['GET', '/webhooks'],
  masking: ['GET', '/masking/rules'],
  mailroom: ['GET', '/mailroom/rules'],
  reports: ['GET', '/reports'],
  search: ['GET', '/search'],
  convertLead: ['POST', '/records/Leads/{id}/convert'],
} as const satisfies Record<string, readonly [string, string]>;

export type Feature = keyof typeof FEATURES;

export function hasFeature(caps: Capabilities, feature: Feature): boolean {
  const [method, path] = FEATURES[feature];
  return caps.has(method, path);
}
