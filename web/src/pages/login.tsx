// The sign-in form: a user name and password exchanged for a token (POST /api/v1/login).
import { useState } from 'preact/hooks';
import { ErrorNotice } from '../components/common.tsx';
import { logIn, type Session } from '../session.ts';

/** A labelled, required text input. */
function Field({
  label,
  onInput,
  ...input
}: {
  readonly label: string;
  readonly name: string;
  readonly type?: 'password';
  readonly autocomplete: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <input {...input} required onInput={(e) => onInput(e.currentTarget.value)} />
    </label>
  );
}

export function LoginPage({ onLoggedIn }: { readonly onLoggedIn: (session: Session) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    logIn(user, password).then(onLoggedIn, (failure: unknown) => {
      setError(failure);
      setBusy(false);
    });
  };
  return (
    <main class="login" id="main">
      <h1>winsmith console</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <p id="login-help" class="muted">
          Sign in with your winsmith user name and password.
        </p>
        <Field label="User" name="user" autocomplete="username" value={user} onInput={setUser} />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={setPassword}
        />
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
