import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { UserResponse } from '../api/routes/users/schemas';
import { GroupsPage } from './pages/groups';
import { InferencePage } from './pages/inference';
import { NewTrainingPage } from './pages/new-training';
import { SignInPage } from './pages/sign-in';
import { TrainingPage } from './pages/training';
import { TrainingsPage } from './pages/trainings';
import { getJson, messageOf, postJson, whenSignedOut } from './requests';
import { Link, navigate, useRoute } from './router';

/** Who is signed in: unknown until the server says, then a user or nobody. */
type SessionState = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'signed-in'; user: UserResponse };

/** The dashboard: asks who is signed in, then shows the page of the address, or the sign-in page to a visitor. */
export function App(): JSX.Element {
  const [session, setSession] = useState<SessionState>({ kind: 'loading' });
  const route = useRoute();
  useEffect(() => {
    whenSignedOut(() => setSession({ kind: 'signed-out' }));
    getJson<UserResponse>('/api/users/myself/').then(
      (user) => setSession({ kind: 'signed-in', user }),
      () => setSession({ kind: 'signed-out' }),
    );
  }, []);
  useEffect(() => {
    document.title = session.kind === 'signed-out' ? 'Sign in · Roundhouse' : 'Roundhouse';
  }, [session.kind, route]);
  if (session.kind === 'loading') {
    return (
      <main id="main">
        <p aria-live="polite">Loading…</p>
      </main>
    );
  }
  if (session.kind === 'signed-out') {
    return (
      <SignInPage
        onSignedIn={(user) => {
          setSession({ kind: 'signed-in', user });
          if (route === 'sign-in') {
            navigate('/ui/');
          }
        }}
      />
    );
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header user={session.user} onSignedOut={() => setSession({ kind: 'signed-out' })} />
      <main id="main">{page(route, session.user)}</main>
    </>
  );
}

function page(route: string, me: UserResponse): JSX.Element {
  if (route === 'inference') {
    return <InferencePage />;
  }
  if (route === 'groups') {
    return <GroupsPage me={me} />;
  }
  if (route === 'trainings/new') {
    return <NewTrainingPage me={me} />;
  }
  const training = /^trainings\/([0-9a-f-]{36})$/.exec(route);
  if (training?.[1] !== undefined) {
    return <TrainingPage id={training[1]} />;
  }
  if (route === '' || route === 'trainings' || route === 'sign-in') {
    return <TrainingsPage />;
  }
  return (
    <>
      <h1>Page not found</h1>
      <p>
        The dashboard has no page at this address. <Link to="">See your trainings</Link>.
      </p>
    </>
  );
}

function Header(props: { user: UserResponse; onSignedOut: () => void }): JSX.Element {
  const [error, setError] = useState('');
  const signOut = async (): Promise<void> => {
    try {
      await postJson('/api/auth/logout/', {});
      props.onSignedOut();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <header class="top">
      <Link to="" class="brand">
        Roundhouse
      </Link>
      <nav aria-label="Main">
        <Link to="trainings">Trainings</Link>
        <Link to="trainings/new">New training</Link>
        <Link to="groups">People and groups</Link>
        <Link to="inference">Inference</Link>
      </nav>
      <span class="who">
        Signed in as <strong>{props.user.username}</strong>
      </span>
      <button type="button" onClick={() => void signOut()}>
        Sign out
      </button>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </header>
  );
}
