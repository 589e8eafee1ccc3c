import type { JSX } from 'preact';

/** The dashboard. */
export function App(): JSX.Element {
  return (
    <main>
      <h1>Roundhouse</h1>
    </main>
  );
}
