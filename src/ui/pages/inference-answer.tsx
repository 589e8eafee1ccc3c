import { Fragment, type JSX } from 'preact';
import { figure } from '../format';

/** A nested list of numbers as the API answers tensors (null where a figure is undefined). */
type Nested = number | null | Nested[];

/** `POST /api/inference/` answered as JSON (docs/inference.md#the-answer). */
export interface InferenceResult {
  inference: Nested;
  outputs: Nested;
  uncertainty: Record<string, Nested>;
}

/** How many values of a tensor are shown; the rest are counted. */
const SHOWN = 20;

/** The prediction, the model's outputs and the uncertainty figures of one inference. */
export function InferenceAnswer(props: { result: InferenceResult }): JSX.Element {
  const { result } = props;
  const figures = Object.entries(result.uncertainty);
  return (
    <section aria-labelledby="answer">
      <h2 id="answer">Answer</h2>
      <dl class="facts">
        <dt>Prediction</dt>
        <dd>{values(result.inference)}</dd>
        <dt>Outputs</dt>
        <dd>{values(result.outputs)}</dd>
        {figures.length === 0 ? (
          <>
            <dt>Uncertainty</dt>
            <dd>none (the model ran once)</dd>
          </>
        ) : (
          figures.map(([name, value]) => (
            <Fragment key={name}>
              <dt>{name.replace(/_/g, ' ')}</dt>
              <dd>{values(value)}</dd>
            </Fragment>
          ))
        )}
      </dl>
    </section>
  );
}

/** A tensor's values in order, rounded, the first `SHOWN` of them. */
function values(tensor: Nested): string {
  const flat = flatten(tensor);
  const shown = flat.slice(0, SHOWN).map((v) => (v === null ? 'undefined' : figure(v)));
  const more = flat.length - shown.length;
  return shown.join(', ') + (more > 0 ? `, … (${more} more)` : '');
}

function flatten(tensor: Nested): Array<number | null> {
  return Array.isArray(tensor) ? tensor.flatMap(flatten) : [tensor];
}
