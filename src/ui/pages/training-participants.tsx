import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { TrainingLive } from '../../api/routes/dashboard/schemas';
import type { UserResponse } from '../../api/routes/users/schemas';
import { getJson, messageOf, sendJson } from '../requests';
import { Link } from '../router';

/**
 * A training's participants. Its actor may remove one (a running training leaves it out from then on, and tells the
 * actor) or add users it shares a group or a training with; the page shows the change once the server has it.
 */
export function TrainingParticipants(props: { live: TrainingLive }): JSX.Element {
  const { training, clients } = props.live;
  const actor = training.role === 'actor';
  const over = training.state === 'C' || training.state === 'E';
  const [users, setUsers] = useState<UserResponse[]>([]);
  const [chosen, setChosen] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    if (actor && !over) {
      getJson<UserResponse[]>('/api/users/').then(setUsers, (err: unknown) => setError(messageOf(err)));
    }
  }, [actor, over]);
  const change = async (method: 'PUT' | 'DELETE', ids: string[]): Promise<void> => {
    setError('');
    try {
      await sendJson(method, `/api/trainings/${training.id}/clients/`, { clients: ids });
      setChosen('');
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const candidates = users.filter((u) => !clients.some((c) => c.id === u.id));
  const add = (event: Event): void => {
    event.preventDefault();
    if (chosen !== '') {
      void change('PUT', [chosen]);
    }
  };
  return (
    <>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {clients.length === 0 ? (
        <p>No participants yet.</p>
      ) : (
        <ul class="plain participants">
          {clients.map((c) => (
            <li key={c.id}>
              {c.username}
              {actor && !over && (
                <button
                  type="button"
                  class="small"
                  aria-label={`Remove ${c.username} from the training`}
                  onClick={() => void change('DELETE', [c.id])}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {actor && !over && (
        <form class="inline-form" onSubmit={add}>
          <label for="add-participant">Add a participant</label>
          <select id="add-participant" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
            <option value="">Choose a user…</option>
            {candidates.map((u) => (
              <option key={u.id} value={u.id}>
                {u.username}
              </option>
            ))}
          </select>
          <button type="submit" disabled={chosen === ''}>
            Add
          </button>
          <span class="muted">
            Users you share a group or a training with; <Link to="groups">people and groups</Link>.
          </span>
        </form>
      )}
    </>
  );
}
