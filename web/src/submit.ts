// A form sent to the API: its submit handler (the browser's own submission prevented), whether the
// request is under way (its button disabled meanwhile), and the error it ended with, shown on the form.
import { useState } from 'preact/hooks';

export interface Submission {
  readonly onSubmit: (e: Event) => void;
  readonly busy: boolean;
  readonly error: unknown;
}

export function useSubmit(send: () => Promise<unknown>): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onSubmit = (e: Event): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    send()
      .catch(setError)
      .finally(() => setBusy(false));
  };
  return { onSubmit, busy, error };
}
