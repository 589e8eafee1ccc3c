import { randomBytes, randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import { hashPassword } from '../../auth/passwords';
import { isUniqueViolation } from '../../db/constraint-errors';
import type { FlModel } from '../../db/models/model';
import type { User } from '../../db/models/user';
import { insertMetricBatches, type MetricBatch } from '../../db/queries/metrics';
import { insertGlobalModel } from '../../db/queries/models';
import { insertTraining, transitionTraining } from '../../db/queries/trainings';
import { findUserByUsername, insertUser } from '../../db/queries/users';
import type { Logger } from '../../logger';
import { bytesSource } from '../../onnx/model-source';
import type { BlobStore } from '../../storage/blob-store';
import { TrainingState } from '../../training-states';
import { checkAndStore, type CheckedModel, manifestOf } from './checked-upload';
import { DEMO_INPUT_SHAPE, demoModel } from './demo-model';
import { newUserRow, type NewUserInput } from './register-user';

/** The demo actor's credentials, the reference's; every demo client has the same password. */
export const DEMO_USERNAME = 'dummy-user';
export const DEMO_PASSWORD = 'secret';
/** The reference's numbers: 5 clients, a training of 80 rounds with metrics for each. */
const CLIENTS = 5;
const EPOCHS = 80;
/** The reference's warning when a call reuses `dummy-user`. */
const USER_EXISTS = 'Dummy User already exists';
const DEMO_PERSON = { email: '', message_endpoint: '', actor: false, client: false } as const;

/** What making demo data needs. */
export interface DemoDataDeps {
  readonly knex: Knex;
  readonly blobs: BlobStore;
  readonly logger: Logger;
}

/** The demo data of one call. */
export interface DemoData {
  readonly user: User;
  readonly trainingId: string;
  readonly participantIds: string[];
}

/**
 * `GET /api/dummy/` (the reference's E37): reuses or creates `dummy-user`, then creates a global model (the demo
 * ONNX model, checked as an upload is), 5 client users and a COMPLETED training of 80 rounds with NLLoss and
 * Accuracy for every round and client, as the reference fills them. Every call but the first reuses the user and
 * creates the rest anew. The rows are written in one transaction; no workflow is started, as none ever ran.
 */
export async function createDemoData(deps: DemoDataDeps): Promise<DemoData> {
  const { knex, blobs, logger } = deps;
  // The blob first, as for every upload: a failure below leaves only an unreferenced blob, which the sweep removes.
  const model = await checkAndStore(blobs, bytesSource(demoModel()), 'model file');
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  return await knex.transaction(async (trx) => {
    const user = await demoUser(trx, logger, passwordHash);
    const participantIds: string[] = [];
    for (let i = 1; i <= CLIENTS; i++) {
      participantIds.push((await insertUser(trx, newUserRow(demoClient(i), passwordHash))).id);
    }
    const global = await insertDemoModel(trx, user, model);
    const training = await insertTraining(
      trx,
      {
        modelId: global.id,
        actorId: user.id,
        targetNumUpdates: EPOCHS,
        aggregationMethod: 'FedAvg',
        uncertaintyMethod: 'NONE',
        options: {},
      },
      participantIds,
    );
    // Finished at once, as the reference's: it is never started, so no workflow exists for it.
    await transitionTraining(trx, training.id, TrainingState.INITIAL, TrainingState.COMPLETED);
    await insertMetricBatches(trx, demoMetrics(global.id, training.id, participantIds));
    return { user, trainingId: training.id, participantIds };
  });
}

/** The global model of one call's training, on the checked and stored demo model. */
async function insertDemoModel(trx: Knex.Transaction, owner: User, model: CheckedModel): Promise<FlModel> {
  return await insertGlobalModel(
    trx,
    {
      type: 'GLOBAL',
      ownerId: owner.id,
      name: 'Dummy MNIST Model',
      description: 'Demo data of GET /api/dummy/: an untrained MNIST-shaped classifier.',
      round: 0,
      inputShape: DEMO_INPUT_SHAPE,
      preprocessingDigest: null,
      manifest: manifestOf(model.summary),
      graphDigest: model.summary.graphDigest,
      format: 'onnx',
    },
    model.weights,
  );
}

/** `dummy-user`, created by the first call; later calls (and the loser of two first calls at once) reuse it. */
async function demoUser(trx: Knex.Transaction, logger: Logger, passwordHash: string): Promise<User> {
  const existing = await findUserByUsername(trx, DEMO_USERNAME);
  if (existing) {
    logger.warn(USER_EXISTS);
    return existing;
  }
  const fields = { ...DEMO_PERSON, username: DEMO_USERNAME, first_name: 'Dummy', last_name: 'User', actor: true };
  try {
    // In a savepoint: a unique violation must not abort the surrounding transaction.
    return await trx.transaction((savepoint) => insertUser(savepoint, newUserRow(fields, passwordHash)));
  } catch (err) {
    const winner = isUniqueViolation(err) ? await findUserByUsername(trx, DEMO_USERNAME) : undefined;
    if (!winner) {
      throw err;
    }
    logger.warn(USER_EXISTS);
    return winner;
  }
}

/** Client `n`: a fresh name each call, as the reference's made-up ones; no endpoint, since nothing is pushed. */
function demoClient(n: number): Omit<NewUserInput, 'password'> {
  const username = `dummy-client-${randomBytes(4).toString('hex')}`;
  return { ...DEMO_PERSON, username, first_name: 'Dummy', last_name: `Client ${n}`, client: true };
}

/** Per round and client, NLLoss falling and Accuracy rising with noise, with the reference's formulas and tags. */
function demoMetrics(modelId: string, trainingId: string, clientIds: readonly string[]): MetricBatch[] {
  const identifier = () => randomBytes(4).toString('hex');
  return Array.from({ length: EPOCHS }, (_, epoch) =>
    clientIds.map((reporterId) => ({
      target: { modelId, trainingId, step: epoch, reporterId },
      metrics: [
        {
          key: 'NLLoss',
          value: { kind: 'float' as const, value: 27.354 / (epoch + 1) + randomInt(101) / 100 },
          identifier: identifier(),
        },
        {
          key: 'Accuracy',
          value: { kind: 'float' as const, value: epoch / EPOCHS + randomInt(101) / 1000 },
          identifier: identifier(),
        },
      ],
    })),
  ).flat();
}
