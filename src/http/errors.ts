/**
 * Structured facts about an error, for other channels and clients: which field, which value kind. Other
 * channels (web services) map errors from these, never by reading the human message. Never a secret.
 */
export interface ErrorDetails {
  field?: string;
  [key: string]: unknown;
}

export interface AppErrorOptions {
  cause?: unknown;
  headers?: Record<string, string>;
  details?: ErrorDetails;
}

/** The one error type that crosses into HTTP. Each feature declares its codes with `errorTable`. */
export class AppError extends Error {
  readonly headers: Record<string, string>;
  readonly details: ErrorDetails | undefined;
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.headers = options.headers ?? {};
    this.details = options.details;
  }
}

export type ErrorFactory<Codes extends string> = (
  code: Codes,
  message: string,
  options?: AppErrorOptions,
) => AppError;

/** One code → HTTP status table per feature; returns a factory that cannot be given an unknown code. */
export function errorTable<const T extends Record<string, number>>(table: T): ErrorFactory<keyof T & string> {
  return (code, message, options) => new AppError(code, table[code] as number, message, options);
}

/** Codes shared by every feature. */
export const httpError = errorTable({
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  AUTHENTICATION_REQUIRED: 401,
  PERMISSION_DENIED: 403,
  CSRF_TOKEN_INVALID: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  DATABASE_UNAVAILABLE: 503,
});

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: ErrorDetails };
}
