import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pLimit from 'p-limit';
import { notFound } from '../errors';
import { type BlobEntry, type BlobRef, type BlobStore, isDigest, type PutOptions } from './blob-store';
import type { RandomAccess } from './random-access';

/** Where in a bucket the blobs live: `s3://bucket/prefix` names both. */
export interface S3Location {
  readonly bucket: string;
  /** Empty, or ending in `/`. */
  readonly prefix: string;
}

/** Parts of a multipart upload: 8 MiB (S3's minimum is 5), four in flight per write. */
const PART_BYTES = 8 << 20;
const PARTS_IN_FLIGHT = 4;

/** How a whole blob is copied from its temporary key to its digest's. */
export interface CopyLimits {
  /** The largest blob copied by one request: S3's limit for CopyObject, 5 GiB. */
  readonly singleCopyBytes: number;
  /** Parts of the multipart copy of a larger blob (S3 takes 5 MiB to 5 GiB a part, up to 10,000 parts). */
  readonly copyPartBytes: number;
}

/** S3's limits: one request up to 5 GiB, then 1 GiB parts (more when a blob would need over 10,000). */
const S3_COPY_LIMITS: CopyLimits = { singleCopyBytes: 5 * 1024 ** 3, copyPartBytes: 1024 ** 3 };
const MAX_PARTS = 10_000;

/** Attempts per request, with the SDK's adaptive backoff on throttling (503 SlowDown) and other retryable errors. */
const MAX_ATTEMPTS = 8;

/**
 * A client for `ROUNDHOUSE_BLOB_URL=s3://…`: region, credentials and an endpoint override (`AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL`) come from the usual AWS variables and files; with an endpoint override (MinIO, Ceph, a test
 * server) path-style addressing is the default, virtual-hosted otherwise.
 */
export function s3Client(options: { pathStyle?: boolean } = {}): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    forcePathStyle: options.pathStyle ?? endpoint !== undefined,
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'adaptive',
    // Checksums only where S3 requires them: S3-compatible servers differ on multipart objects' checksums (a
    // composite of the parts', or none), and the blobs are named by their SHA-256 anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(process.env.AWS_REGION === undefined && process.env.AWS_DEFAULT_REGION === undefined
      ? { region: 'us-east-1' }
      : {}),
  });
}

/**
 * A blob store in an S3-compatible bucket: `<prefix>sha256/<first two hex>/<digest>`. A write streams to a temporary
 * key (`<prefix>tmp/<uuid>.partial`; a multipart upload for large blobs, aborted when the write fails) while the
 * digest is computed, then is copied under its digest and the temporary object deleted: a reader never sees a
 * partial blob under a digest. Reads are streamed or ranged GETs pinned to the object's ETag, so a positional reader
 * never mixes two objects. A blob over 5 GiB (S3's limit for one copy) is copied part by part, server-side; an
 * unfinished copy is aborted, and one a dead writer left is swept with the other temporaries.
 */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    readonly location: S3Location,
    private readonly copyLimits: CopyLimits = S3_COPY_LIMITS,
  ) {}

  async put(source: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<BlobRef> {
    const { bucket } = this.location;
    const tempKey = `${this.location.prefix}tmp/${randomUUID()}.partial`;
    const hash = createHash('sha256');
    let size = 0;
    async function* hashed(): AsyncGenerator<Uint8Array> {
      for await (const chunk of source instanceof Uint8Array ? [source] : source) {
        hash.update(chunk);
        size += chunk.byteLength;
        yield chunk;
      }
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: tempKey, Body: Readable.from(hashed()) },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      const digest = hash.digest('hex');
      await options.beforeCommit?.({ digest, size });
      // A copy of the same bytes over an existing blob is harmless, and marks it written now (see `delete`).
      await this.copyUnder(tempKey, digest, size);
      return { digest, size };
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: tempKey })).catch(() => undefined);
    }
  }

  async read(digest: string): Promise<Readable> {
    return bodyOf((await this.get(digest)).Body);
  }

  async readRange(digest: string, start: number, length: number): Promise<Buffer> {
    const stat = await this.head(digest);
    const into = Buffer.alloc(Math.max(0, Math.min(length, stat.size - start)));
    const read = await this.readInto(digest, stat.etag, into, start);
    return into.subarray(0, read);
  }

  async openAccess(digest: string): Promise<RandomAccess> {
    const { size, etag } = await this.head(digest);
    return {
      size,
      readInto: (into, position) => this.readInto(digest, etag, into, position, size),
      close: () => Promise.resolve(),
    };
  }

  async readAll(digest: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.read(digest)) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async stat(digest: string): Promise<BlobRef | undefined> {
    if (!isDigest(digest)) {
      return undefined;
    }
    try {
      return { digest, size: (await this.head(digest)).size };
    } catch (error) {
      if (isAppNotFound(error)) {
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Deletes the blob unless it was written at or after `onlyIfOlderThan`. The check and the delete are two requests:
   * a write of the same bytes between them would lose its blob, which is why writers hold leases the sweep honours.
   */
  async delete(digest: string, options: { onlyIfOlderThan?: Date } = {}): Promise<boolean> {
    if (!isDigest(digest)) {
      return false;
    }
    let modifiedAt: Date;
    try {
      modifiedAt = (await this.head(digest)).modifiedAt;
    } catch (error) {
      if (isAppNotFound(error)) {
        return false;
      }
      throw error;
    }
    if (options.onlyIfOlderThan && modifiedAt >= options.onlyIfOlderThan) {
      return false;
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(digest) }));
    return true;
  }

  async *list(): AsyncIterable<BlobEntry> {
    const prefix = `${this.location.prefix}sha256/`;
    for await (const object of this.objects(prefix)) {
      const digest = object.key.slice(object.key.lastIndexOf('/') + 1);
      if (isDigest(digest) && object.key === this.keyOf(digest)) {
        yield { digest, size: object.size, modifiedAt: object.modifiedAt };
      }
    }
  }

  /**
   * Removes temporary objects and unfinished multipart uploads of writers that died, older than `olderThan`: their
   * writes under `tmp/`, and their part-by-part copies under `sha256/` (which show nothing under a digest until
   * complete).
   */
  async removeStaleTemporaryFiles(olderThan: Date): Promise<number> {
    const { bucket } = this.location;
    const prefix = `${this.location.prefix}tmp/`;
    let removed = 0;
    for await (const object of this.objects(prefix)) {
      if (object.key.endsWith('.partial') && object.modifiedAt < olderThan) {
        await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key }));
        removed += 1;
      }
    }
    for (const uploads of [prefix, `${this.location.prefix}sha256/`]) {
      removed += await this.abortUploads(uploads, olderThan);
    }
    return removed;
  }

  /** Aborts the multipart uploads under `prefix` begun before `olderThan`; answers how many. */
  private async abortUploads(prefix: string, olderThan: Date): Promise<number> {
    const { bucket } = this.location;
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== undefined && upload.UploadId !== undefined && (upload.Initiated ?? olderThan) < olderThan) {
          await this.client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
          );
          aborted += 1;
        }
      }
      keyMarker = page.IsTruncated === true ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.NextUploadIdMarker;
    } while (keyMarker !== undefined);
    return aborted;
  }

  /** Copies the object at `tempKey` under the digest's key: in one request, or part by part past S3's 5 GiB. */
  private async copyUnder(tempKey: string, digest: string, size: number): Promise<void> {
    const { bucket } = this.location;
    const key = this.keyOf(digest);
    const source = copySource(bucket, tempKey);
    if (size <= this.copyLimits.singleCopyBytes) {
      await this.client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: source }));
      return;
    }
    const partBytes = Math.max(this.copyLimits.copyPartBytes, Math.ceil(size / MAX_PARTS));
    const started = await this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const uploadId = started.UploadId;
    if (uploadId === undefined) {
      throw new Error(`the S3 server started no multipart copy for ${key}`);
    }
    try {
      const limit = pLimit(PARTS_IN_FLIGHT);
      const parts = await Promise.all(
        Array.from({ length: Math.ceil(size / partBytes) }, (_, index) =>
          limit(async () => {
            const first = index * partBytes;
            const last = Math.min(size, first + partBytes) - 1;
            const copied = await this.client.send(
              new UploadPartCopyCommand({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: index + 1,
                CopySource: source,
                CopySourceRange: `bytes=${first}-${last}`,
              }),
            );
            return { PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag };
          }),
        ),
      );
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      // Nothing appears under the key until the copy completes: what was copied so far is dropped.
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  private keyOf(digest: string): string {
    return `${this.location.prefix}sha256/${digest.slice(0, 2)}/${digest}`;
  }

  private async *objects(prefix: string): AsyncGenerator<{ key: string; size: number; modifiedAt: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: prefix,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) {
          yield { key: object.Key, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
        }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private async head(digest: string): Promise<{ size: number; etag: string | undefined; modifiedAt: Date }> {
    if (!isDigest(digest)) {
      throw notFound(`Blob ${digest} not found.`);
    }
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(digest) }),
      );
      return { size: head.ContentLength ?? 0, etag: head.ETag, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      throw isMissing(error) ? notFound(`Blob ${digest} not found.`, error) : error;
    }
  }

  private async get(digest: string, range?: string, etag?: string): Promise<{ Body?: unknown }> {
    if (!isDigest(digest)) {
      throw notFound(`Blob ${digest} not found.`);
    }
    try {
      return await this.client.send(
        new GetObjectCommand({
          Bucket: this.location.bucket,
          Key: this.keyOf(digest),
          ...(range === undefined ? {} : { Range: range }),
          ...(etag === undefined ? {} : { IfMatch: etag }),
        }),
      );
    } catch (error) {
      throw isMissing(error) ? notFound(`Blob ${digest} not found.`, error) : error;
    }
  }

  /** One ranged GET of `into.length` bytes from `position` (fewer where the blob ends) straight into `into`. */
  private async readInto(
    digest: string,
    etag: string | undefined,
    into: Uint8Array,
    position: number,
    size = Infinity,
  ): Promise<number> {
    const length = Math.max(0, Math.min(into.length, size - position));
    if (length === 0) {
      return 0;
    }
    const body = bodyOf((await this.get(digest, `bytes=${position}-${position + length - 1}`, etag)).Body);
    let filled = 0;
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      const take = Math.min(bytes.length, length - filled);
      into.set(bytes.subarray(0, take), filled);
      filled += take;
    }
    return filled;
  }
}

/** `s3://bucket/prefix` → the bucket and the prefix (empty, or ending in `/`). */
export function parseS3Url(url: string): S3Location {
  const parsed = new URL(url);
  if (parsed.protocol !== 's3:' || parsed.hostname === '') {
    throw new Error(`not an s3://bucket/prefix URL: ${url}`);
  }
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+/, '');
  return { bucket: parsed.hostname, prefix: path === '' || path.endsWith('/') ? path : `${path}/` };
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function bodyOf(body: unknown): Readable {
  if (body instanceof Readable) {
    return body;
  }
  throw new Error('the S3 response has no body stream');
}

/** A missing object or bucket key: GetObject says NoSuchKey, HeadObject only its 404. */
function isMissing(error: unknown): boolean {
  const { name, $metadata } = (error ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

function isAppNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'not_found';
}
