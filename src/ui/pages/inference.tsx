import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ModelResponse } from '../../api/routes/models/schemas';
import { getJson, messageOf, postForm, postJson } from '../requests';
import { InferenceAnswer, type InferenceResult } from './inference-answer';

/** Uncertainty methods a request may name for a model whose training names none. */
const METHODS = ['', 'NONE', 'MC_DROPOUT', 'ENSEMBLE', 'SWAG'] as const;

/**
 * Runs a model the user may read on an image or file it uploads, or on numbers it pastes, and shows the prediction
 * and its uncertainty (`POST /api/inference/`, answered as JSON).
 */
export function InferencePage(): JSX.Element {
  const [models, setModels] = useState<ModelResponse[] | undefined>(undefined);
  const [model, setModel] = useState('');
  const [kind, setKind] = useState<'file' | 'numbers'>('file');
  const [file, setFile] = useState<File | null>(null);
  const [numbers, setNumbers] = useState('');
  const [shape, setShape] = useState('');
  const [method, setMethod] = useState<(typeof METHODS)[number]>('');
  const [samples, setSamples] = useState('10');
  const [result, setResult] = useState<InferenceResult | undefined>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    getJson<ModelResponse[]>('/api/models/').then(
      (list) => {
        const runnable = list.filter((m) => m.type !== 'LOCAL');
        setModels(runnable);
        setModel(runnable[0]?.id ?? '');
      },
      (err: unknown) => setError(messageOf(err)),
    );
  }, []);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError('');
    setResult(undefined);
    try {
      const extra = {
        ...(shape.trim() === '' ? {} : { shape: shape.trim() }),
        ...(method === '' ? {} : { uncertainty_method: method, options: { uncertainty: { N: Number(samples) } } }),
      };
      setResult(kind === 'file' ? await runOnFile(model, file, extra) : await runOnNumbers(model, numbers, extra));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  if (models === undefined) {
    return (
      <>
        <h1>Inference</h1>
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : (
          <p aria-live="polite">Loading…</p>
        )}
      </>
    );
  }
  return (
    <>
      <h1>Inference</h1>
      <form class="stacked" onSubmit={(e) => void submit(e)}>
        <label for="inference-model">Model</label>
        <select id="inference-model" required value={model} onChange={(e) => setModel(e.currentTarget.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name || m.id} ({m.type.toLowerCase()}, round {m.round})
            </option>
          ))}
        </select>
        <fieldset>
          <legend>Input</legend>
          <label class="inline">
            <input type="radio" name="kind" checked={kind === 'file'} onChange={() => setKind('file')} />
            Upload an image (PNG, JPEG) or a file (.npy, safetensors)
          </label>
          <label class="inline">
            <input type="radio" name="kind" checked={kind === 'numbers'} onChange={() => setKind('numbers')} />
            Paste numbers (a JSON list, nested as the input)
          </label>
          {kind === 'file' ? (
            <>
              <label for="inference-file">File</label>
              <input
                id="inference-file"
                type="file"
                required
                accept="image/png,image/jpeg,.npy,.safetensors"
                onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              />
            </>
          ) : (
            <>
              <label for="inference-numbers">Numbers</label>
              <textarea
                id="inference-numbers"
                required
                rows={5}
                placeholder="[[0.1, 0.2, 0.3]]"
                value={numbers}
                onInput={(e) => setNumbers(e.currentTarget.value)}
              />
            </>
          )}
          <label for="inference-shape">Shape (optional)</label>
          <input
            id="inference-shape"
            placeholder="1, 1, 28, 28"
            value={shape}
            onInput={(e) => setShape(e.currentTarget.value)}
          />
        </fieldset>
        <label for="inference-method">Uncertainty method</label>
        <select
          id="inference-method"
          value={method}
          onChange={(e) => setMethod(METHODS.find((m) => m === e.currentTarget.value) ?? '')}
        >
          {METHODS.map((m) => (
            <option key={m} value={m}>
              {m === '' ? "The training's (or none)" : m}
            </option>
          ))}
        </select>
        {method !== '' && method !== 'NONE' && (
          <>
            <label for="inference-samples">Samples</label>
            <input
              id="inference-samples"
              type="number"
              min={1}
              max={100}
              value={samples}
              onInput={(e) => setSamples(e.currentTarget.value)}
            />
          </>
        )}
        <button type="submit" disabled={busy || model === ''}>
          {busy ? 'Running…' : 'Run the model'}
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div aria-live="polite">{result && <InferenceAnswer result={result} />}</div>
    </>
  );
}

/** Multipart: the file goes as it is; the server recognises images, .npy and safetensors by their content. */
async function runOnFile(model: string, file: File | null, extra: Record<string, unknown>): Promise<InferenceResult> {
  if (!file) {
    throw new Error('Choose a file to run the model on.');
  }
  const form = new FormData();
  form.append('model_id', model);
  form.append('return_format', 'json');
  for (const [name, value] of Object.entries(extra)) {
    form.append(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  form.append('model_input', file, file.name);
  return postForm<InferenceResult>('/api/inference/', form);
}

/** JSON: the pasted text must be a JSON list; it is checked here first, so a typo gets a message without a request. */
async function runOnNumbers(model: string, text: string, extra: Record<string, unknown>): Promise<InferenceResult> {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new Error('The numbers are not a JSON list, such as [[0.1, 0.2, 0.3]].');
  }
  const shape = typeof extra.shape === 'string' ? extra.shape.split(',').map((d) => Number(d.trim())) : undefined;
  return postJson<InferenceResult>('/api/inference/', {
    model_id: model,
    model_input: input,
    return_format: 'json',
    ...extra,
    ...(shape === undefined ? {} : { shape }),
  });
}
