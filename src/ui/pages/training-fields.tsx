import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { TrainingChoices } from '../../api/routes/dashboard/schemas';
import type { DatasetResponse } from '../../api/routes/datasets/schemas';
import type { GroupResponse } from '../../api/routes/groups/schemas';
import type { ModelResponse } from '../../api/routes/models/schemas';
import type { UserResponse } from '../../api/routes/users/schemas';

/** The "upload a new model" choice of the model field. */
export const UPLOAD = 'upload';

/** What the new-training form holds. */
export interface TrainingForm {
  /** A model id, or `upload` for the file below. */
  model: string;
  file: File | null;
  modelName: string;
  /** Comma-separated dimensions, `None` for a free one. */
  inputShape: string;
  method: string;
  uncertainty: string;
  rounds: string;
  metrics: string;
  roundTimeout: string;
  skipModelTests: boolean;
  dataset: string;
  clients: ReadonlySet<string>;
  group: string;
  start: boolean;
}

/** The form's fields; `onSubmit` gets their values. */
export function TrainingFields(props: {
  offer: {
    choices: TrainingChoices;
    models: ModelResponse[];
    users: UserResponse[];
    groups: GroupResponse[];
    datasets: DatasetResponse[];
  };
  me: UserResponse;
  busy: boolean;
  onSubmit: (form: TrainingForm) => void;
}): JSX.Element {
  const { choices, models, users, groups, datasets } = props.offer;
  const [form, setForm] = useState<TrainingForm>({
    model: models[0]?.id ?? UPLOAD,
    file: null,
    modelName: '',
    inputShape: '',
    method: choices.aggregation_methods[0] ?? 'FedAvg',
    uncertainty: 'NONE',
    rounds: '3',
    metrics: 'accuracy',
    roundTimeout: '',
    skipModelTests: false,
    dataset: '',
    clients: new Set(),
    group: '',
    start: true,
  });
  const set = (change: Partial<TrainingForm>): void => setForm({ ...form, ...change });
  const toggle = (id: string): void => {
    const clients = new Set(form.clients);
    if (!clients.delete(id)) {
      clients.add(id);
    }
    set({ clients });
  };
  const submit = (event: Event): void => {
    event.preventDefault();
    props.onSubmit(form);
  };
  return (
    <form class="stacked" onSubmit={submit}>
      <label for="model">Model</label>
      <select id="model" value={form.model} onChange={(e) => set({ model: e.currentTarget.value })}>
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name || m.id} (round {m.round})
          </option>
        ))}
        <option value={UPLOAD}>Upload a new model…</option>
      </select>
      {form.model === UPLOAD && (
        <fieldset>
          <legend>New model</legend>
          <label for="model-file">ONNX file or PyTorch archive</label>
          <input
            id="model-file"
            type="file"
            accept=".onnx,.pt,.pth,.zip"
            required
            onChange={(e) => set({ file: e.currentTarget.files?.[0] ?? null })}
          />
          <label for="model-name">Name</label>
          <input id="model-name" value={form.modelName} onInput={(e) => set({ modelName: e.currentTarget.value })} />
          <label for="input-shape">Input shape (optional)</label>
          <input
            id="input-shape"
            placeholder="None, 1, 28, 28"
            aria-describedby="input-shape-hint"
            value={form.inputShape}
            onInput={(e) => set({ inputShape: e.currentTarget.value })}
          />
          <small id="input-shape-hint">Dimensions separated by commas; None for a free one such as the batch.</small>
        </fieldset>
      )}
      <label for="method">Aggregation method</label>
      <select id="method" value={form.method} onChange={(e) => set({ method: e.currentTarget.value })}>
        {choices.aggregation_methods.map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
      <label for="uncertainty">Uncertainty method</label>
      <select id="uncertainty" value={form.uncertainty} onChange={(e) => set({ uncertainty: e.currentTarget.value })}>
        {choices.uncertainty_methods.map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
      <label for="rounds">Rounds (aggregations)</label>
      <input
        id="rounds"
        type="number"
        min={0}
        required
        value={form.rounds}
        onInput={(e) => set({ rounds: e.currentTarget.value })}
      />
      <label for="metrics">Metric names</label>
      <input id="metrics" value={form.metrics} onInput={(e) => set({ metrics: e.currentTarget.value })} />
      <label for="round-timeout">Round deadline in seconds (optional; 3600 by default)</label>
      <input
        id="round-timeout"
        type="number"
        min={1}
        value={form.roundTimeout}
        onInput={(e) => set({ roundTimeout: e.currentTarget.value })}
      />
      <label for="dataset">Server evaluation dataset</label>
      <select id="dataset" value={form.dataset} onChange={(e) => set({ dataset: e.currentTarget.value })}>
        <option value="">None</option>
        {datasets
          .filter((d) => d.owner === props.me.id)
          .map((d) => (
            <option key={d.id} value={String(d.id)}>
              {d.name} ({d.rows} rows)
            </option>
          ))}
      </select>
      <label class="inline">
        <input
          type="checkbox"
          checked={form.skipModelTests}
          onChange={(e) => set({ skipModelTests: e.currentTarget.checked })}
        />
        Skip the clients' test rounds
      </label>
      <fieldset>
        <legend>Participants</legend>
        {users.length === 0 && <p>No user shares a group or a training with you yet.</p>}
        {users.map((u) => (
          <label class="inline" key={u.id}>
            <input type="checkbox" checked={form.clients.has(u.id)} onChange={() => toggle(u.id)} />
            {u.username}
            {u.id === props.me.id && ' (you)'}
          </label>
        ))}
      </fieldset>
      <label for="group">Group whose members may join</label>
      <select id="group" value={form.group} onChange={(e) => set({ group: e.currentTarget.value })}>
        <option value="">None</option>
        {groups.map((g) => (
          <option key={g.id} value={String(g.id)}>
            {g.name}
          </option>
        ))}
      </select>
      <label class="inline">
        <input type="checkbox" checked={form.start} onChange={(e) => set({ start: e.currentTarget.checked })} />
        Start it at once
      </label>
      <button type="submit" disabled={props.busy}>
        {props.busy ? 'Creating…' : form.start ? 'Create and start' : 'Create'}
      </button>
    </form>
  );
}
