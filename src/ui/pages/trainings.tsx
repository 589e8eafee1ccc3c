import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { TrainingSummary } from '../../api/routes/dashboard/schemas';
import { figure, stateName } from '../format';
import { getJson, messageOf } from '../requests';
import { Link } from '../router';
import { ScrollTable } from '../scroll-table';

/** How often the list is read again while it is shown. */
const REFRESH_MS = 5000;

/** The caller's trainings: state, method, round, participants and the server's last figures; refreshed while shown. */
export function TrainingsPage(): JSX.Element {
  const [trainings, setTrainings] = useState<TrainingSummary[] | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    const leave = new AbortController();
    const load = (): void => {
      getJson<TrainingSummary[]>('/api/dashboard/trainings/', leave.signal).then(
        (list) => {
          setTrainings(list);
          setError('');
        },
        (err: unknown) => {
          if (!leave.signal.aborted) {
            setError(messageOf(err));
          }
        },
      );
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      clearInterval(timer);
      leave.abort();
    };
  }, []);
  return (
    <>
      <h1>Trainings</h1>
      <p>
        <Link to="trainings/new">Create a training</Link>
      </p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {trainings === undefined ? (
        <p aria-live="polite">Loading…</p>
      ) : trainings.length === 0 ? (
        <p>You have no trainings yet, as actor or participant.</p>
      ) : (
        <TrainingTable trainings={trainings} />
      )}
    </>
  );
}

function TrainingTable(props: { trainings: TrainingSummary[] }): JSX.Element {
  return (
    <ScrollTable
      label="Trainings"
      columns={['Model', 'State', 'Method', 'Round', 'Participants', 'Server accuracy', 'Your role']}
    >
      {props.trainings.map((t) => (
        <tr key={t.id}>
          <th scope="row">
            <Link to={`trainings/${t.id}`}>{t.model.name || t.id}</Link>
          </th>
          <td>
            <span class={`state state-${t.state}`}>{stateName(t.state)}</span>
          </td>
          <td>{t.aggregation_method}</td>
          <td>
            {t.round} of {t.target_num_updates}
          </td>
          <td>{t.participants}</td>
          <td>
            {figure(t.server_metrics?.values.accuracy)}
            {t.server_metrics && <span class="muted"> (round {t.server_metrics.round})</span>}
          </td>
          <td>{t.role}</td>
        </tr>
      ))}
    </ScrollTable>
  );
}
