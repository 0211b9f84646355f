// The sign-in form: a user name and password exchanged for a token (POST /api/v1/login).
import { useState } from 'preact/hooks';
import { ErrorNotice } from '../components/common.tsx';
import { logIn, type Session } from '../session.ts';

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
        <label>
          User
          <input
            name="user"
            autocomplete="username"
            required
            value={user}
            onInput={(e) => setUser(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
