import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { UserResponse } from '../../api/routes/users/schemas';
import { messageOf, postJson } from '../requests';

/**
 * The sign-in form: a session login. The server answers with an HttpOnly session cookie and a CSRF cookie; the
 * password goes nowhere else, and nothing is written to the browser's storage.
 */
export function SignInPage(props: { onSignedIn: (user: UserResponse) => void }): JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const user = await postJson<UserResponse>('/api/auth/login/', { username, password });
      setPassword('');
      props.onSignedIn(user);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Roundhouse</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label for="username">User name</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          value={username}
          onInput={(event) => setUsername(event.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
