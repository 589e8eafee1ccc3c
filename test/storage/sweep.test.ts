import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import {
  databaseLeases,
  listReferencedDigests,
  removeExpiredLeases,
  removeUnlessClaimed,
} from '../../src/db/queries/blobs';
import type { BlobStore } from '../../src/storage/blob-store';
import { LeasedBlobStore } from '../../src/storage/leased-blob-store';
import { blobStoreAt } from '../../src/storage/open-blob-store';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { sweepBlobs } from '../../src/storage/sweep';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { bucketStore, folderStore, type TestBlobStore } from '../support/blob-stores';
import { createTestKnex } from '../support/db';

async function storedDigests(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const blob of store.list()) {
    out.push(blob.digest);
  }
  return out.sort();
}

describe('sweepBlobs', () => {
  let knex: Knex;
  let root: string;
  let store: FsBlobStore;

  beforeAll(() => {
    knex = createTestKnex();
  });

  afterAll(async () => {
    await knex.destroy();
  });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-sweep-'));
    store = new FsBlobStore(root);
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('when blobs are referenced by model versions, uploads and preprocessing, the sweep keeps them and removes the rest', async () => {
    const [weights, update, preprocessing, orphanA, orphanB] = await Promise.all(
      Array.from({ length: 5 }, () => store.put(randomBytes(1_000))),
    );
    if (!weights || !update || !preprocessing || !orphanA || !orphanB) {
      throw new Error('blobs not written');
    }
    const actor = await buildUser(knex);
    const client = await buildUser(knex);
    const model = await buildGlobalModel(knex, actor.id, weights.digest, { preprocessingDigest: preprocessing.digest });
    const training = await buildTraining(knex, actor.id, model.id);
    await knex('uploads').insert({
      trainingId: training.id,
      round: 0,
      clientId: client.id,
      phase: 'update',
      contentDigest: update.digest,
      blobDigest: update.digest,
    });

    const kept = await sweepBlobs(store, () => listReferencedDigests(knex), { minAgeMs: 60_000 });
    expect(kept.removed).toEqual([]);
    expect(await storedDigests(store)).toHaveLength(5);

    const result = await sweepBlobs(store, () => listReferencedDigests(knex), {
      minAgeMs: 0,
      now: new Date(Date.now() + 1_000),
    });
    expect(result.removed.sort()).toEqual([orphanA.digest, orphanB.digest].sort());
    expect(await storedDigests(store)).toEqual([weights.digest, update.digest, preprocessing.digest].sort());
  });

  it('when an unreferenced blob is written again after the sweep started, it is not removed', async () => {
    const bytes = randomBytes(500);
    const blob = await store.put(bytes);
    const cutoff = new Date(Date.now() + 1_000);
    const result = await sweepBlobs(
      store,
      async () => {
        // An upload of the same bytes lands between the listing and the deletion.
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await store.put(bytes);
        return new Set<string>();
      },
      { minAgeMs: 0, now: cutoff },
    );
    expect(result.removed).toEqual([]);
    expect(await storedDigests(store)).toEqual([blob.digest]);
  });
});

describe.each([
  ['the folder store', folderStore],
  ['the S3 store', bucketStore],
])('write leases on %s', (_, open) => {
  const MINUTE = 60_000;
  let knex: Knex;
  let harness: TestBlobStore;
  let store: BlobStore;
  let leased: BlobStore;

  beforeAll(() => {
    knex = createTestKnex();
  });

  afterAll(async () => {
    await knex.destroy();
  });

  beforeEach(async () => {
    harness = await open();
    store = blobStoreAt(harness.url);
    leased = new LeasedBlobStore(store, databaseLeases(knex, 30 * MINUTE));
  });

  afterEach(async () => {
    await harness.cleanup();
  });

  const sweepAt = (now: Date) =>
    sweepBlobs(store, () => listReferencedDigests(knex), {
      minAgeMs: 0,
      now,
      guard: (digest, remove) => removeUnlessClaimed(knex, digest, now, remove),
    });

  it('when a write left an orphan, the sweep keeps it while the lease lasts and removes it after', async () => {
    const blob = await leased.put(randomBytes(2_000));
    expect(await knex('blob_leases').where({ digest: blob.digest })).toHaveLength(1);

    expect((await sweepAt(new Date(Date.now() + MINUTE))).removed).toEqual([]);
    expect(await storedDigests(store)).toEqual([blob.digest]);

    const later = new Date(Date.now() + 31 * MINUTE);
    expect((await sweepAt(later)).removed).toEqual([blob.digest]);
    expect(await storedDigests(store)).toEqual([]);
    expect(await removeExpiredLeases(knex, later)).toBeGreaterThanOrEqual(1);
    expect(await knex('blob_leases').where({ digest: blob.digest })).toHaveLength(0);
  });

  it('when a write of the same bytes comes while the sweep deletes an orphan, it waits and its blob is there after', async () => {
    const bytes = randomBytes(3_000);
    const orphan = await store.put(bytes);
    let reached: () => void = () => undefined;
    const deleting = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const now = new Date(Date.now() + 1_000);
    const sweep = removeUnlessClaimed(knex, orphan.digest, now, async () => {
      reached();
      await gate;
      return await store.delete(orphan.digest, { onlyIfOlderThan: now });
    });
    await deleting;
    let written = false;
    const write = leased.put(bytes).then((ref) => {
      written = true;
      return ref;
    });
    // The write's bytes are whole, but it cannot lease the digest while the sweep holds it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(written).toBe(false);
    release();
    expect(await sweep).toBe(true);
    expect(await write).toEqual(orphan);
    expect(await store.stat(orphan.digest)).toEqual({ digest: orphan.digest, size: bytes.length });
    // And the next sweep keeps it: the write holds its lease.
    expect((await sweepAt(new Date(Date.now() + MINUTE))).removed).toEqual([]);
  });

  it('when a write leased the digest first, the sweep leaves it alone', async () => {
    const bytes = randomBytes(1_500);
    await store.put(bytes);
    const again = await leased.put(bytes);
    const now = new Date(Date.now() + 1_000);
    expect(await removeUnlessClaimed(knex, again.digest, now, () => store.delete(again.digest))).toBe(false);
    expect(await store.stat(again.digest)).toBeDefined();
  });
});
