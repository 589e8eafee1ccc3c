import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { GroupResponse } from '../../api/routes/groups/schemas';
import type { UserResponse } from '../../api/routes/users/schemas';

/** One group: its members, joining or leaving it, and its owner's member controls. */
export function GroupCard(props: {
  group: GroupResponse;
  me: UserResponse;
  names: ReadonlyMap<string, string>;
  onJoin: () => void;
  onLeave: () => void;
  /** Resolves true once the members were added. */
  onAdd: (ids: string[]) => Promise<boolean>;
  onRemove: (id: string) => void;
}): JSX.Element {
  const g = props.group;
  const [ids, setIds] = useState('');
  const owner = g.owner === props.me.id;
  const member = g.members.includes(props.me.id);
  const heading = `group-${g.id}`;
  const add = (event: Event): void => {
    event.preventDefault();
    const list = ids
      .split(/[\s,]+/)
      .map((id) => id.trim())
      .filter((id) => id !== '');
    void props.onAdd(list).then((added) => {
      if (added) {
        setIds('');
      }
    });
  };
  return (
    <article class="card" aria-labelledby={heading}>
      <h3 id={heading}>
        {g.name} <span class="muted">({g.public ? 'public' : 'private'})</span>
      </h3>
      <p>
        {g.members.length} member{g.members.length === 1 ? '' : 's'}
        {owner && ', owned by you'}
        {!owner && member && ', you are a member'}
      </p>
      <ul class="plain">
        {g.members.map((id) => (
          <li key={id}>
            {props.names.get(id) ?? id}
            {owner && id !== props.me.id && (
              <button
                type="button"
                class="small"
                aria-label={`Remove ${props.names.get(id) ?? id}`}
                onClick={() => props.onRemove(id)}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {!member && g.public && (
        <button type="button" onClick={props.onJoin}>
          Join {g.name}
        </button>
      )}
      {member && !owner && (
        <button type="button" onClick={props.onLeave}>
          Leave {g.name}
        </button>
      )}
      {owner && (
        <form class="inline-form" onSubmit={add}>
          <label for={`add-${g.id}`}>Add members by user id</label>
          <input id={`add-${g.id}`} required value={ids} onInput={(e) => setIds(e.currentTarget.value)} />
          <button type="submit">Add</button>
        </form>
      )}
    </article>
  );
}
