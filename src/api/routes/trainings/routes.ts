import { z } from 'zod';
import { listTrainingsOfActor } from '../../../db/queries/trainings';
import { countUploads } from '../../../db/queries/uploads';
import { findModelById } from '../../../db/queries/models';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { createTraining } from '../../use-cases/create-training';
import { removeTraining } from '../../use-cases/training-commands';
import { readableTraining } from '../../use-cases/training-access';
import { detailSchema, errorSchema } from '../common-schemas';
import { presentTraining } from './presenters';
import {
  createTrainingBody,
  trainingCreatedResponse,
  trainingParams,
  trainingResponse,
  trainingWithRoundsResponse,
} from './schemas';

/** The OpenAPI tag of every training route. */
export const TRAININGS_TAG = 'trainings';
/** A training that is missing or hidden. */
export const TRAINING_MISSING = {
  status: 404,
  description: 'No such training, or the caller has no relation to it.',
  schema: errorSchema,
};

/** `/api/trainings/` and `/api/trainings/{id}/`: list, create, read and delete trainings. */
export function trainingRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex, orchestrator } = services;
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/trainings',
      tag: TRAININGS_TAG,
      summary: 'Trainings whose actor is the caller.',
      responses: [{ status: 200, description: 'The trainings.', schema: z.array(trainingResponse) }],
    },
    async (ctx, { user }) => {
      ctx.body = (await listTrainingsOfActor(knex, user.id)).map(presentTraining);
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/trainings',
      tag: TRAININGS_TAG,
      summary: 'Creates a training of a model the caller owns (copied first when it already has a training).',
      description: 'The body is read as JSON whatever the Content-Type says, as the reference does.',
      body: createTrainingBody,
      bodyKind: 'raw-json',
      responses: [
        { status: 201, description: 'Created.', schema: trainingCreatedResponse },
        { status: 400, description: 'A missing, invalid or unknown field, or an unknown client.', schema: errorSchema },
        { status: 403, description: 'The caller does not own the model.', schema: errorSchema },
        { status: 404, description: 'No such model.', schema: errorSchema },
      ],
    },
    async (ctx, { user, body }) => {
      const training = await createTraining(services, user, body);
      ctx.status = 201;
      ctx.body = { detail: 'Training created successfully!', training_id: training.id };
    },
  );
  authedRoute(
    rc,
    {
      method: 'get',
      path: '/trainings/:id',
      tag: TRAININGS_TAG,
      summary: "A training with the current round's progress (its actor and participants).",
      params: trainingParams,
      responses: [{ status: 200, description: 'The training.', schema: trainingWithRoundsResponse }, TRAINING_MISSING],
    },
    async (ctx, { user, params }) => {
      const training = await readableTraining(knex, user, params.id);
      const model = await findModelById(knex, training.modelId);
      const arrived = model ? await countUploads(knex, training.id, model.round, 'update') : 0;
      const run = await orchestrator.status(training);
      ctx.body = {
        ...presentTraining(training),
        local_models_arrived: arrived,
        local_models_expected: training.participants?.length ?? 0,
        error: training.error,
        run: run && {
          phase: run.phase,
          round: run.round,
          participants: run.participants,
          received: run.received,
          missing: run.missing,
          deadline: run.deadline,
          extended: run.extended,
          left_out: run.leftOut,
          declined: run.declined ?? {},
        },
      };
    },
  );
  authedRoute(
    rc,
    {
      method: 'delete',
      path: '/trainings/:id',
      tag: TRAININGS_TAG,
      summary: 'Deletes a training (its actor); its run is cancelled, the model stays.',
      params: trainingParams,
      responses: [
        { status: 200, description: 'Removed.', schema: detailSchema },
        { status: 403, description: 'The caller is not the actor.', schema: errorSchema },
        TRAINING_MISSING,
      ],
    },
    async (ctx, { user, params }) => {
      await removeTraining(services, user, params.id);
      ctx.body = { detail: 'Training removed!' };
    },
  );
}
