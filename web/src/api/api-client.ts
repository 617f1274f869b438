/** The server's error body: `{"error":{"code","message","requestId"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  setCsrfToken(token: string | null): void;
}

const NETWORK_MESSAGE = 'Rapport cannot be reached. Check your connection and try again.';

/**
 * A fetch wrapper for `/api/v1`: JSON in and out, the session's CSRF token on every write, and every
 * failure turned into an `ApiError` whose message is fit to show a person.
 */
export function createApiClient(onSignedOut: () => void): ApiClient {
  let csrfToken: string | null = null;

  async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
    let res: Response;
    try {
      res = await fetch(path.startsWith('/') ? path : `/api/v1/${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'NETWORK', NETWORK_MESSAGE, null);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; requestId?: string } } | null)?.error;
      const apiError = new ApiError(
        res.status,
        err?.code ?? 'HTTP_' + res.status,
        err?.message ?? fallbackMessage(res.status),
        err?.requestId ?? null,
      );
      if (res.status === 401 && !path.endsWith('auth/login')) onSignedOut();
      throw apiError;
    }
    return json as T;
  }

  return {
    get: (path) => send('GET', path),
    post: (path, body) => send('POST', path, body ?? {}),
    put: (path, body) => send('PUT', path, body ?? {}),
    patch: (path, body) => send('PATCH', path, body ?? {}),
    del: (path) => send('DELETE', path),
    setCsrfToken: (token) => {
      csrfToken = token;
    },
  };
}

function fallbackMessage(status: number): string {
  if (status >= 500) return 'Something went wrong on the server. Try again in a moment.';
  if (status === 404) return 'This item does not exist or was removed.';
  if (status === 403) return 'You do not have permission to do this.';
  return 'The request could not be completed.';
}
