import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BlobStore } from '../../src/storage/blob-store';
import { blobStoreAt } from '../../src/storage/open-blob-store';
import { parseS3Url, S3BlobStore, s3Client } from '../../src/storage/s3-blob-store';
import { bucketStore, folderStore, type TestBlobStore } from '../support/blob-stores';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function* chunksOf(bytes: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
  }
  return out;
}

describe.each([
  ['the folder store', folderStore],
  ['the S3 store', bucketStore],
])('%s', (_, open) => {
  let harness: TestBlobStore;
  let store: BlobStore;

  beforeEach(async () => {
    harness = await open();
    store = blobStoreAt(harness.url);
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  it('when the same bytes are written twice, both get the SHA-256 digest and one blob is stored', async () => {
    const bytes = randomBytes(100_000);
    const first = await store.put(bytes);
    const second = await store.put(chunksOf(bytes, 7_000));
    expect(first).toEqual({ digest: sha256(bytes), size: bytes.length });
    expect(second).toEqual(first);
    expect(await collect(store.list())).toHaveLength(1);
    expect((await store.readAll(first.digest)).equals(bytes)).toBe(true);
    expect(await harness.temporaries()).toBe(0);
  });

  it('when a range is read, answers exactly those bytes, fewer past the end, and 404 for a missing blob', async () => {
    const bytes = randomBytes(50_000);
    const { digest } = await store.put(bytes);
    expect((await store.readRange(digest, 0, 8)).equals(bytes.subarray(0, 8))).toBe(true);
    expect((await store.readRange(digest, 12_345, 20_000)).equals(bytes.subarray(12_345, 32_345))).toBe(true);
    expect((await store.readRange(digest, 49_990, 100)).equals(bytes.subarray(49_990))).toBe(true);
    expect(await store.readRange(digest, 60_000, 10)).toHaveLength(0);
    await expect(store.readRange(sha256(Buffer.from('absent')), 0, 1)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('when a blob is opened for positional reads, each read fills the buffer given, fewer past the end', async () => {
    const bytes = randomBytes(70_000);
    const { digest } = await store.put(bytes);
    const access = await store.openAccess(digest);
    try {
      expect(access.size).toBe(70_000);
      const into = new Uint8Array(30_000);
      expect(await access.readInto(into, 20_000)).toBe(30_000);
      expect(Buffer.from(into).equals(bytes.subarray(20_000, 50_000))).toBe(true);
      expect(await access.readInto(into, 65_000)).toBe(5_000);
      expect(Buffer.from(into.subarray(0, 5_000)).equals(bytes.subarray(65_000))).toBe(true);
      expect(await access.readInto(into, 80_000)).toBe(0);
    } finally {
      await access.close();
    }
    await expect(store.openAccess(sha256(Buffer.from('absent')))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('when many writers store the same and different bytes at once, every blob is whole under its digest', async () => {
    const shared = randomBytes(300_000);
    const others = Array.from({ length: 5 }, () => randomBytes(200_000));
    const inputs = [...Array.from({ length: 10 }, () => shared), ...others];
    const refs = await Promise.all(inputs.map((bytes) => store.put(chunksOf(bytes, 16_384))));
    refs.forEach((ref, i) => expect(ref.digest).toBe(sha256(inputs[i] ?? Buffer.alloc(0))));
    const listed = await collect(store.list());
    expect(listed.map((b) => b.digest).sort()).toEqual([...new Set(refs.map((r) => r.digest))].sort());
    for (const blob of listed) {
      expect(sha256(await store.readAll(blob.digest))).toBe(blob.digest);
    }
    const stream = await store.read(refs[0]?.digest ?? '');
    const streamed: Buffer[] = [];
    for await (const chunk of stream) {
      streamed.push(chunk as Buffer);
    }
    expect(Buffer.concat(streamed).equals(shared)).toBe(true);
  });

  it('when a writer process is killed mid-write, nothing appears under a digest and what it left is swept', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '../support/slow-blob-writer.ts'), harness.url],
      // The environment as this test set it (the AWS variables): jest's process.env is not the worker's own.
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
    );
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString().split('progress').length - 1;
        // 40 MiB written: the multipart upload is under way, several 8 MiB parts sent or in flight.
        if (seen >= 40) {
          resolve();
        }
      });
      child.once('exit', () => reject(new Error('writer exited before it was killed')));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    expect(await collect(store.list())).toEqual([]);
    // A partial file, or an unfinished multipart upload: kept while it could be a live write, then removed.
    expect(await store.removeStaleTemporaryFiles(new Date(0))).toBe(0);
    expect(await store.removeStaleTemporaryFiles(new Date(Date.now() + 1_000))).toBe(1);
    expect(await store.removeStaleTemporaryFiles(new Date(Date.now() + 1_000))).toBe(0);
    expect(await harness.temporaries()).toBe(0);
  });

  it('when a blob is absent or the digest is malformed, reading it answers not_found', async () => {
    await expect(store.read('0'.repeat(64))).rejects.toMatchObject({ code: 'not_found', status: 404 });
    await expect(store.readAll('../../etc/passwd')).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.stat('../x')).toBeUndefined();
    expect(await store.delete('../x')).toBe(false);
  });
});

describe('the S3 store under throttling', () => {
  it('when the server answers 503 SlowDown, each request is retried with backoff until it succeeds', async () => {
    const harness = await bucketStore();
    const target = new URL(process.env.AWS_ENDPOINT_URL ?? '');
    let requests = 0;
    let throttled = 0;
    // A proxy in front of the S3 server that answers every third request with S3's throttling error.
    const proxy = http.createServer((req, res) => {
      requests += 1;
      if (requests % 3 === 1) {
        throttled += 1;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        );
        return;
      }
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const endpoint = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const store = blobStoreAt(harness.url);
      const bytes = randomBytes(40_000);
      const ref = await store.put(bytes);
      expect((await store.readAll(ref.digest)).equals(bytes)).toBe(true);
      expect((await store.readRange(ref.digest, 100, 10)).equals(bytes.subarray(100, 110))).toBe(true);
      expect(await collect(store.list())).toHaveLength(1);
      expect(throttled).toBeGreaterThanOrEqual(3);
      expect(requests).toBeGreaterThan(throttled);
    } finally {
      process.env.AWS_ENDPOINT_URL = endpoint;
      await new Promise((resolve) => proxy.close(resolve));
      await harness.cleanup();
    }
  });
});

describe('the S3 store past the size one copy request takes', () => {
  // S3 copies at most 5 GiB in one request; these limits make a 12 MiB blob take the part-by-part path (parts of
  // 5 MiB, S3's smallest).
  const limits = { singleCopyBytes: 1 << 20, copyPartBytes: 5 << 20 };
  let harness: TestBlobStore;
  let client: S3Client;
  let store: S3BlobStore;

  beforeEach(async () => {
    harness = await bucketStore();
    client = s3Client();
    store = new S3BlobStore(client, parseS3Url(harness.url), limits);
  });

  afterEach(async () => {
    client.destroy();
    await harness.cleanup();
  });

  const unfinishedUploads = async (): Promise<number> =>
    ((await client.send(new ListMultipartUploadsCommand({ Bucket: store.location.bucket }))).Uploads ?? []).length;

  it('when a blob is larger, it is copied part by part and reads back whole under its digest, leaving nothing else', async () => {
    const bytes = randomBytes(12 << 20);
    const small = randomBytes(1000);
    const ref = await store.put(chunksOf(bytes, 1 << 20));
    expect(ref).toEqual({ digest: sha256(bytes), size: bytes.length });
    // A multipart object's ETag ends in its number of parts: 5 + 5 + 2 MiB.
    const key = `${store.location.prefix}sha256/${ref.digest.slice(0, 2)}/${ref.digest}`;
    const head = await client.send(new HeadObjectCommand({ Bucket: store.location.bucket, Key: key }));
    expect(head.ETag).toMatch(/-3"$/);
    expect((await store.readAll(ref.digest)).equals(bytes)).toBe(true);
    expect(
      (await store.readRange(ref.digest, (10 << 20) - 3, 6)).equals(bytes.subarray((10 << 20) - 3, (10 << 20) + 3)),
    ).toBe(true);
    // A blob within the limit still takes one request, and a second write of the large one changes nothing.
    expect(await store.put(small)).toEqual({ digest: sha256(small), size: 1000 });
    expect(await store.put(bytes)).toEqual(ref);
    expect((await collect(store.list())).map((entry) => entry.digest).sort()).toEqual(
      [ref.digest, sha256(small)].sort(),
    );
    expect(await harness.temporaries()).toBe(0);
    expect(await unfinishedUploads()).toBe(0);
  });

  it('when a part fails to copy, the write fails and leaves no blob, no temporary and no unfinished copy', async () => {
    let failed = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        if (context.commandName === 'UploadPartCopyCommand' && input.PartNumber === 2) {
          failed += 1;
          throw new Error('part 2 could not be copied');
        }
        return await next(args);
      },
      { step: 'initialize', name: 'failSecondPartCopy' },
    );
    await expect(store.put(randomBytes(12 << 20))).rejects.toThrow('part 2 could not be copied');
    expect(failed).toBe(1);
    expect(await collect(store.list())).toEqual([]);
    expect(await harness.temporaries()).toBe(0);
    expect(await unfinishedUploads()).toBe(0);
  });

  it('when a writer died during a part-by-part copy, the sweep aborts the copy it left once it is old enough', async () => {
    const digest = sha256(Buffer.from('a blob whose copy never completed'));
    const key = `${store.location.prefix}sha256/${digest.slice(0, 2)}/${digest}`;
    await client.send(new CreateMultipartUploadCommand({ Bucket: store.location.bucket, Key: key }));
    expect(await store.removeStaleTemporaryFiles(new Date(0))).toBe(0);
    expect(await store.removeStaleTemporaryFiles(new Date(Date.now() + 1_000))).toBe(1);
    expect(await unfinishedUploads()).toBe(0);
    expect(await store.stat(digest)).toBeUndefined();
  });
});
