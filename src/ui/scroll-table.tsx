import type { ComponentChildren, JSX } from 'preact';

/**
 * A table in a region of its own that scrolls sideways on a narrow screen (named `label`, reachable by keyboard),
 * with a header row of `columns`; the rows are its children.
 */
export function ScrollTable(props: {
  label: string;
  columns: readonly string[];
  children: ComponentChildren;
}): JSX.Element {
  return (
    <div class="scroll" role="region" aria-label={props.label} tabIndex={0}>
      <table>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
