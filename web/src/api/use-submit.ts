import { notifications } from '@mantine/notifications';
import { type FormEvent, useState } from 'react';
import type { ApiError } from './api-client';
import { asApiError } from './use-api';

/** The notification after a success: its text, or a title and text (green unless `color` says); null: none. */
export type SuccessNote = string | { title?: string; message: string; color?: string } | null;

export interface SubmitOptions<A extends unknown[], R> {
  /** What the green notification says (worked out from the action's result and arguments when a function). */
  success?: SuccessNote | ((result: R, ...args: A) => SuccessNote);
  /** Runs after the notification, e.g. `onSaved(); onClose();`. */
  onDone?: (result: R, ...args: A) => void;
  /** Stay busy after a success: the component navigates away or is replaced by what was saved. */
  keepBusy?: boolean;
}

export interface Submit<A extends unknown[]> {
  /** Runs the action; resolves true when it worked, false when it failed (the failure is in `error`). */
  submit: (...args: A) => Promise<boolean>;
  /** For `<form onSubmit>`: stops the browser's own submit and runs the action without arguments. */
  onSubmit: (e: FormEvent) => void;
  busy: boolean;
  error: ApiError | null;
  setError: (error: ApiError | null) => void;
  clearError: () => void;
}

/**
 * The submit block every form and dialog shares: busy while the action runs, the last failure cleared when it
 * starts and kept as an ApiError for `<ErrorAlert>` when it fails; on success a green notification, then `onDone`.
 */
export function useSubmit<A extends unknown[] = [], R = unknown>(
  action: (...args: A) => Promise<R>,
  options: SubmitOptions<A, R> = {},
): Submit<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (...args: A): Promise<boolean> => {
    setBusy(true);
    setError(null);
    let ok = false;
    try {
      const result = await action(...args);
      const note = typeof options.success === 'function' ? options.success(result, ...args) : options.success;
      if (note)
        notifications.show({ color: 'green', ...(typeof note === 'string' ? { message: note } : note) });
      options.onDone?.(result, ...args);
      ok = true;
    } catch (err) {
      setError(asApiError(err));
    } finally {
      if (!ok || !options.keepBusy) setBusy(false);
    }
    return ok;
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit(...([] as unknown as A));
  };

  return { submit, onSubmit, busy, error, setError, clearError: () => setError(null) };
}

/**
 * One failure slot for a component's several small actions (row buttons, toggles): `run(job)` runs the job
 * through useSubmit; the job may resolve the note to show.
 */
export function useActions() {
  // biome-ignore lint/suspicious/noConfusingVoidType: a job without a note is an async function that returns nothing
  const { submit, ...rest } = useSubmit((job: () => Promise<SuccessNote | void>) => job(), {
    success: (note) => note ?? null,
  });
  return { run: submit, ...rest };
}
