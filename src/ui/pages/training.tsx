import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { TrainingLive } from '../../api/routes/dashboard/schemas';
import { figure, stateName } from '../format';
import { getJson, messageOf, postJson, RequestError } from '../requests';
import { Link } from '../router';
import { ClientCharts, ServerCharts } from './training-charts';
import { TrainingParticipants } from './training-participants';
import { RoundsTable } from './training-rounds';
import { VersionsList } from './training-versions';

/** How long one long-poll of the training may wait for a change, in seconds. */
const WAIT_SECONDS = 25;

/**
 * One training, live: the page long-polls the dashboard API with the version it shows, so every upload, decline,
 * aggregation and evaluation appears as it happens, without reloading.
 */
export function TrainingPage(props: { id: string }): JSX.Element {
  const [live, setLive] = useState<TrainingLive | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    const leave = new AbortController();
    void follow(props.id, leave.signal, setLive, setError);
    return () => leave.abort();
  }, [props.id]);
  if (live === undefined) {
    return (
      <>
        <h1>Training</h1>
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : (
          <p aria-live="polite">Loading…</p>
        )}
        <p>
          <Link to="trainings">All trainings</Link>
        </p>
      </>
    );
  }
  const t = live.training;
  const names = new Map(live.clients.map((c) => [c.id, c.username]));
  return (
    <>
      <p class="crumbs">
        <Link to="trainings">Trainings</Link> / {t.model.name}
      </p>
      <h1>Training of {t.model.name || t.model.id}</h1>
      {error && (
        <p role="alert" class="error">
          {error} Retrying…
        </p>
      )}
      {t.error && <p class="error">The training failed: {t.error}</p>}
      {t.role === 'actor' && t.state === 'I' && <StartButton id={t.id} />}
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <span class={`state state-${t.state}`}>{stateName(t.state)}</span>
        </dd>
        <dt>Round</dt>
        <dd>
          {t.round} of {t.target_num_updates}
        </dd>
        <dt>Method</dt>
        <dd>
          {t.aggregation_method}
          {t.uncertainty_method !== 'NONE' && `, uncertainty ${t.uncertainty_method}`}
        </dd>
        <dt>Participants</dt>
        <dd>{t.participants}</dd>
        <dt>Server accuracy</dt>
        <dd>
          {figure(t.server_metrics?.values.accuracy)}
          {t.server_metrics && ` (version ${t.server_metrics.round})`}
        </dd>
        <dt>Workflow</dt>
        <dd>
          {t.workflow_url ? (
            <a href={t.workflow_url} rel="noopener noreferrer">
              training-{t.id} in the Temporal Web UI
            </a>
          ) : (
            `training-${t.id}`
          )}
        </dd>
      </dl>
      <p class="muted">This page updates by itself while the training runs.</p>
      <section aria-labelledby="charts">
        <h2 id="charts">Figures per round</h2>
        <ServerCharts rounds={live.rounds} />
        <ClientCharts rounds={live.rounds} />
      </section>
      <section aria-labelledby="rounds">
        <h2 id="rounds">Rounds</h2>
        <RoundsTable rounds={live.rounds} names={names} />
      </section>
      <section aria-labelledby="versions">
        <h2 id="versions">Model versions</h2>
        <VersionsList versions={live.versions} />
      </section>
      <section aria-labelledby="clients">
        <h2 id="clients">{t.role === 'actor' ? 'Participants' : 'You'}</h2>
        <TrainingParticipants live={live} />
      </section>
    </>
  );
}

/** Starts a training in state INITIAL (its actor's); the page shows the change by itself. */
function StartButton(props: { id: string }): JSX.Element {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const start = async (): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      await postJson(`/api/trainings/${props.id}/start/`, {});
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <>
      <p>
        <button type="button" disabled={busy} onClick={() => void start()}>
          {busy ? 'Starting…' : 'Start the training'}
        </button>
      </p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </>
  );
}

/** Reads the training, then waits for each change of it, until `signal` aborts or the training is gone. */
async function follow(
  id: string,
  signal: AbortSignal,
  setLive: (live: TrainingLive) => void,
  setError: (error: string) => void,
): Promise<void> {
  let since: string | undefined;
  while (!signal.aborted) {
    try {
      const query = since === undefined ? '' : `?since=${since}&wait=${WAIT_SECONDS}`;
      const live = await getJson<TrainingLive>(`/api/dashboard/trainings/${id}/${query}`, signal);
      since = live.version;
      setLive(live);
      setError('');
    } catch (err) {
      if (signal.aborted) {
        return;
      }
      setError(messageOf(err));
      if (err instanceof RequestError && err.status < 500) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}
