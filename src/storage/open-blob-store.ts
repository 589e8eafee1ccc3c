import { fileURLToPath } from 'node:url';
import type { BlobStore } from './blob-store';
import { FsBlobStore } from './fs-blob-store';
import { parseS3Url, S3BlobStore, s3Client } from './s3-blob-store';

/**
 * The store `ROUNDHOUSE_BLOB_URL` names: `file:///folder` (the default, under the state directory) or
 * `s3://bucket/prefix` (an S3-compatible bucket; the AWS variables give region, credentials and endpoint).
 */
export function blobStoreAt(url: string, options: { s3PathStyle?: boolean } = {}): BlobStore {
  const protocol = url.slice(0, url.indexOf(':') + 1);
  if (protocol === 'file:') {
    return new FsBlobStore(fileURLToPath(url));
  }
  if (protocol === 's3:') {
    return new S3BlobStore(s3Client({ pathStyle: options.s3PathStyle }), parseS3Url(url));
  }
  throw new Error(`ROUNDHOUSE_BLOB_URL must be file:///folder or s3://bucket/prefix (got ${url})`);
}
