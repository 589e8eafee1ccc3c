import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { listReferencedDigests } from '../../src/db/queries/blobs';
import { FsBlobStore } from '../../src/storage/fs-blob-store';
import { sweepBlobs } from '../../src/storage/sweep';
import { buildGlobalModel, buildTraining, buildUser } from '../fixtures/factories';
import { createTestKnex } from '../support/db';

async function storedDigests(store: FsBlobStore): Promise<string[]> {
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
