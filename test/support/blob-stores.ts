import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/storage/s3-blob-store';
import { createTestBucket, useS3Server } from './s3-server';
import { testEnv } from './test-env';

/** A store for a test: its URL (for the store itself, or a process of its own), how many temporaries it holds. */
export interface TestBlobStore {
  readonly url: string;
  temporaries(): Promise<number>;
  cleanup(): Promise<void>;
}

/** The folder store in a fresh temporary folder. */
export async function folderStore(): Promise<TestBlobStore> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-blobs-'));
  return {
    url: pathToFileURL(root).href,
    temporaries: async () => (await fs.readdir(path.join(root, 'tmp')).catch(() => [])).length,
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
}

/** The S3 store in a fresh bucket of the run's S3 server (moto), under a prefix. */
export async function bucketStore(): Promise<TestBlobStore> {
  useS3Server(testEnv('s3Endpoint'));
  // Test files share a process (and a moto server): each bucket gets a name of its own.
  const bucket = `roundhouse-test-${randomUUID()}`;
  await createTestBucket(bucket);
  const client = s3Client();
  return {
    url: `s3://${bucket}/deployment/blobs`,
    temporaries: async () => {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'deployment/blobs/tmp/' }));
      return (page.Contents ?? []).length;
    },
    cleanup: () => Promise.resolve(client.destroy()),
  };
}
