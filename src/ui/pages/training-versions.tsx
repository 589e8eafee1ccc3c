import type { JSX } from 'preact';
import type { ModelVersionView } from '../../api/routes/dashboard/schemas';
import { bytes, when } from '../format';

/** The global model's stored versions, newest first, each downloadable (the session cookie authorizes the download). */
export function VersionsList(props: { versions: readonly ModelVersionView[] }): JSX.Element {
  if (props.versions.length === 0) {
    return <p>No version is stored.</p>;
  }
  return (
    <ul class="versions">
      {[...props.versions].reverse().map((v) => (
        <li key={v.round}>
          <a href={v.download_url} download>
            Download version {v.round}
          </a>{' '}
          <span class="muted">
            ({bytes(v.size)}, <time dateTime={v.created_at}>{when(v.created_at)}</time>)
          </span>
        </li>
      ))}
    </ul>
  );
}
