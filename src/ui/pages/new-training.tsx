import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { TrainingChoices } from '../../api/routes/dashboard/schemas';
import type { DatasetResponse } from '../../api/routes/datasets/schemas';
import type { GroupResponse } from '../../api/routes/groups/schemas';
import type { ModelResponse } from '../../api/routes/models/schemas';
import type { UserResponse } from '../../api/routes/users/schemas';
import { getJson, messageOf, postForm, postJson } from '../requests';
import { Link, navigate } from '../router';
import { TrainingFields, type TrainingForm, UPLOAD } from './training-fields';

/** What the form offers: the server's choices, the caller's models, the users it may pick, its groups. */
interface Offer {
  choices: TrainingChoices;
  models: ModelResponse[];
  users: UserResponse[];
  groups: GroupResponse[];
  datasets: DatasetResponse[];
}

/**
 * Creates a training of one of the caller's models (or of a model uploaded here) with the participants and options
 * chosen, and starts it unless asked not to; then shows its page.
 */
export function NewTrainingPage(props: { me: UserResponse }): JSX.Element {
  const [offer, setOffer] = useState<Offer | undefined>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // A training created but not started (the start was refused): the form is not sent again, the page links it.
  const [created, setCreated] = useState('');
  useEffect(() => {
    Promise.all([
      getJson<TrainingChoices>('/api/dashboard/choices/'),
      getJson<ModelResponse[]>('/api/models/'),
      getJson<UserResponse[]>('/api/users/'),
      getJson<GroupResponse[]>('/api/groups/'),
      getJson<DatasetResponse[]>('/api/datasets/'),
    ]).then(
      ([choices, models, users, groups, datasets]) =>
        setOffer({
          choices,
          models: models.filter((m) => m.type === 'GLOBAL' && m.owner === props.me.id),
          users,
          groups,
          datasets,
        }),
      (err: unknown) => setError(messageOf(err)),
    );
  }, [props.me.id]);
  const submit = async (form: TrainingForm): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      const modelId = form.model === UPLOAD ? await upload(form) : form.model;
      const { training_id: id } = await postJson<{ training_id: string }>(
        '/api/trainings/',
        trainingBody(form, modelId),
      );
      if (form.start) {
        try {
          await postJson(`/api/trainings/${id}/start/`, {});
        } catch (err) {
          setCreated(id);
          throw err;
        }
      }
      navigate(`/ui/trainings/${id}`);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <>
      <p class="crumbs">
        <Link to="trainings">Trainings</Link> / new
      </p>
      <h1>New training</h1>
      {error && (
        <p role="alert" class="error">
          {created ? `The training was created but not started: ${error}` : error}
        </p>
      )}
      {created ? (
        <p>
          <Link to={`trainings/${created}`}>Go to the new training</Link> to start it once it can be.
        </p>
      ) : offer === undefined ? (
        !error && <p aria-live="polite">Loading…</p>
      ) : (
        <TrainingFields offer={offer} me={props.me} busy={busy} onSubmit={(form) => void submit(form)} />
      )}
    </>
  );
}

/** Uploads the form's model file as a new global model; returns its id. */
async function upload(form: TrainingForm): Promise<string> {
  if (!form.file) {
    throw new Error('Choose the model file to upload.');
  }
  const body = new FormData();
  body.append('name', form.modelName.trim() || form.file.name);
  body.append('description', '');
  for (const dim of form.inputShape
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')) {
    body.append('input_shape', dim);
  }
  body.append('model_file', form.file, form.file.name);
  return (await postForm<{ model_id: string }>('/api/models/', body)).model_id;
}

/** The body of `POST /api/trainings/`: only the options the form sets, so the server's defaults hold otherwise. */
function trainingBody(form: TrainingForm, modelId: string): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (form.roundTimeout !== '') {
    options.round_timeout = Number(form.roundTimeout);
  }
  if (form.skipModelTests) {
    options.skip_model_tests = true;
  }
  if (form.dataset !== '') {
    options.evaluation_dataset = Number(form.dataset);
  }
  return {
    model_id: modelId,
    target_num_updates: Number(form.rounds),
    metric_names: form.metrics
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    aggregation_method: form.method,
    uncertainty_method: form.uncertainty,
    options,
    clients: [...form.clients],
    group: form.group === '' ? null : Number(form.group),
  };
}
