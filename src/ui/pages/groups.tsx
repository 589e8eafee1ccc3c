import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { GroupResponse } from '../../api/routes/groups/schemas';
import type { UserResponse } from '../../api/routes/users/schemas';
import { getJson, messageOf, postJson, sendJson } from '../requests';
import { GroupCard } from './group-card';

/**
 * The people the user shares a group or a training with, and the groups it sees: create a group, join or leave a
 * public one, and (as its owner) add or remove members. Participants of a training are picked from these people.
 */
export function GroupsPage(props: { me: UserResponse }): JSX.Element {
  const [groups, setGroups] = useState<GroupResponse[] | undefined>(undefined);
  const [users, setUsers] = useState<UserResponse[]>([]);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const [open, setOpen] = useState(false);
  const load = async (): Promise<void> => {
    const [g, u] = await Promise.all([
      getJson<GroupResponse[]>('/api/groups/'),
      getJson<UserResponse[]>('/api/users/'),
    ]);
    setGroups(g);
    setUsers(u);
  };
  /** Runs a change, then reads everything again; a refusal shows its detail. True when the change was made. */
  const act = async (change: () => Promise<unknown>): Promise<boolean> => {
    setError('');
    try {
      await change();
      await load();
      return true;
    } catch (err) {
      setError(messageOf(err));
      return false;
    }
  };
  useEffect(() => {
    load().catch((err: unknown) => setError(messageOf(err)));
  }, []);
  const names = new Map(users.map((u) => [u.id, u.username]));
  const create = (event: Event): void => {
    event.preventDefault();
    void act(async () => {
      await postJson('/api/groups/', { name, public: open });
      setName('');
    });
  };
  return (
    <>
      <h1>People and groups</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <section aria-labelledby="people">
        <h2 id="people">People</h2>
        <p class="muted">The users who share a group or a training with you; you may pick them as participants.</p>
        <ul>
          {users.map((u) => (
            <li key={u.id}>
              {u.username}
              {u.id === props.me.id && ' (you)'}
              <span class="muted">
                {' '}
                {[u.actor && 'actor', u.client && 'client'].filter(Boolean).join(', ')} · id {u.id}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="groups">
        <h2 id="groups">Groups</h2>
        {groups === undefined ? (
          <p aria-live="polite">Loading…</p>
        ) : groups.length === 0 ? (
          <p>You see no group yet.</p>
        ) : (
          groups.map((g) => (
            <GroupCard
              key={g.id}
              group={g}
              me={props.me}
              names={names}
              onJoin={() => void act(() => postJson(`/api/groups/${g.id}/join/`, {}))}
              onLeave={() => void act(() => postJson(`/api/groups/${g.id}/leave/`, {}))}
              onAdd={(ids) => act(() => postJson(`/api/groups/${g.id}/members/`, { user_ids: ids }))}
              onRemove={(id) => void act(() => sendJson('DELETE', `/api/groups/${g.id}/members/`, { user_ids: [id] }))}
            />
          ))
        )}
      </section>
      <section aria-labelledby="new-group">
        <h2 id="new-group">New group</h2>
        <form class="stacked" onSubmit={create}>
          <label for="group-name">Name</label>
          <input id="group-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <label class="inline">
            <input type="checkbox" checked={open} onChange={(e) => setOpen(e.currentTarget.checked)} />
            Public: anyone may see and join it
          </label>
          <button type="submit">Create the group</button>
        </form>
      </section>
    </>
  );
}
