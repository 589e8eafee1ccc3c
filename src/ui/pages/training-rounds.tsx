import type { JSX } from 'preact';
import type { RoundView } from '../../api/routes/trainings/round-schemas';
import { when } from '../format';
import { ScrollTable } from '../scroll-table';

/** Words for why a client was left out of a round (the API's reasons). */
const REASONS: Readonly<Record<RoundView['left_out'][number]['reason'], string>> = {
  deadline: 'missed the deadline',
  declined: 'declined',
  removed: 'was removed',
  ended: 'the training ended first',
};

/** The rounds, newest first: state, deadline, who uploaded, who was left out and why. */
export function RoundsTable(props: { rounds: readonly RoundView[]; names: ReadonlyMap<string, string> }): JSX.Element {
  if (props.rounds.length === 0) {
    return <p>No round has started yet.</p>;
  }
  const name = (id: string): string => props.names.get(id) ?? `client ${id.slice(0, 8)}`;
  return (
    <ScrollTable label="Table of rounds" columns={['Round', 'State', 'Deadline', 'Uploaded', 'Left out']}>
      {[...props.rounds].reverse().map((r) => (
        <tr key={r.round_id}>
          <th scope="row">{r.round}</th>
          <td>{r.state.toLowerCase()}</td>
          <td>{r.deadline ? <time dateTime={r.deadline}>{when(r.deadline)}</time> : '–'}</td>
          <td>
            {r.update_count} of {r.asked}
            {r.updates.length > 0 && (
              <ul class="plain">
                {r.updates.map((u) => (
                  <li key={u.client}>
                    {name(u.client)}
                    {u.sample_size !== null && <span class="muted"> ({u.sample_size} samples)</span>}
                  </li>
                ))}
              </ul>
            )}
          </td>
          <td>
            {r.left_out.length === 0 ? (
              'nobody'
            ) : (
              <ul class="plain">
                {r.left_out.map((l) => (
                  <li key={`${l.client}-${l.phase}`}>
                    {name(l.client)} ({l.phase}): {REASONS[l.reason]}
                    {l.message && <q>{l.message}</q>}
                  </li>
                ))}
              </ul>
            )}
          </td>
        </tr>
      ))}
    </ScrollTable>
  );
}
