import { z } from 'zod';
import type { FlModel } from '../../../db/models/model';
import { listModelsOfTraining } from '../../../db/queries/models';
import { authedRoute, type RouteContext } from '../../routing/route';
import type { ApiServices } from '../../services';
import { joinTraining, registerClients, removeClients, startTraining } from '../../use-cases/training-commands';
import { TrainingState } from '../../../training-states';
import { readableTraining } from '../../use-cases/training-access';
import { detailSchema, errorSchema } from '../common-schemas';
import { presentModel } from '../models/presenters';
import { modelResponse } from '../models/schemas';
import { TRAINING_MISSING, TRAININGS_TAG } from './routes';
import { clientsBody, trainingParams } from './schemas';

const notActor = { status: 403, description: 'The caller is not the actor.', schema: errorSchema };
const badClients = { status: 400, description: 'A malformed or unknown user id.', schema: errorSchema };

/** `/api/trainings/{id}/models/`, `/clients/` and `/start/`: a training's models, participants and start. */
export function trainingClientRoutes(rc: RouteContext, services: ApiServices): void {
  const { knex } = services;
  for (const latest of [false, true]) {
    authedRoute(
      rc,
      {
        method: 'get',
        path: latest ? '/trainings/:id/models/latest' : '/trainings/:id/models',
        tag: TRAININGS_TAG,
        summary: latest
          ? "The training's global model and each uploader's latest update the caller may see."
          : "The training's global model and the updates the caller may see (the actor: all; a participant: their own).",
        params: trainingParams,
        responses: [{ status: 200, description: 'The models.', schema: z.array(modelResponse) }, TRAINING_MISSING],
      },
      async (ctx, { user, params }) => {
        const training = await readableTraining(knex, user, params.id);
        const uploader = training.actorId === user.id ? undefined : user.id;
        const models = await listModelsOfTraining(knex, training.modelId, uploader);
        ctx.body = (latest ? latestPerOwner(models) : models).map((model) => presentModel(model));
      },
    );
  }
  for (const method of ['put', 'delete'] as const) {
    authedRoute(
      rc,
      {
        method,
        path: '/trainings/:id/clients',
        tag: TRAININGS_TAG,
        summary: method === 'put' ? 'Registers participants (the actor).' : 'Removes participants (the actor).',
        description: 'The body is read as JSON whatever the Content-Type says, as the reference does.',
        params: trainingParams,
        body: clientsBody,
        bodyKind: 'raw-json',
        responses: [
          { status: method === 'put' ? 202 : 200, description: 'Done.', schema: detailSchema },
          badClients,
          notActor,
          TRAINING_MISSING,
        ],
      },
      async (ctx, { user, params, body }) => {
        if (method === 'put') {
          await registerClients(services, user, params.id, body.clients);
          ctx.status = 202;
          ctx.body = { detail: 'Users registered as participants!' };
          return;
        }
        await removeClients(services, user, params.id, body.clients);
        ctx.body = { detail: 'Users removed from training participants!' };
      },
    );
  }
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/trainings/:id/start',
      tag: TRAININGS_TAG,
      summary: 'Starts a training in state INITIAL with participants (the actor).',
      params: trainingParams,
      responses: [
        { status: 202, description: 'Started.', schema: detailSchema },
        { status: 400, description: 'No participants, or not in state INITIAL.', schema: errorSchema },
        notActor,
        TRAINING_MISSING,
      ],
    },
    async (ctx, { user, params }) => {
      await startTraining(services, user, params.id);
      ctx.status = 202;
      ctx.body = { detail: 'Training started!' };
    },
  );
  authedRoute(
    rc,
    {
      method: 'post',
      path: '/trainings/:id/join',
      tag: TRAININGS_TAG,
      summary: "Joins a training open to the caller's group; a running one takes the caller from its next round start.",
      params: trainingParams,
      responses: [
        { status: 200, description: 'The caller is a participant.', schema: detailSchema },
        { status: 400, description: 'The training is over.', schema: errorSchema },
        { status: 403, description: "The caller is not a member of the training's group.", schema: errorSchema },
        TRAINING_MISSING,
      ],
    },
    async (ctx, { user, params }) => {
      const training = await joinTraining(services, user, params.id);
      ctx.body = {
        detail:
          training.state === TrainingState.INITIAL
            ? `Joined training ${training.id}.`
            : `Joined training ${training.id}; you take part from its next round start.`,
      };
    },
  );
}

/** The global model plus, per uploader, their update of the highest round. */
function latestPerOwner(models: readonly FlModel[]): FlModel[] {
  const latest = new Map<string, FlModel>();
  for (const model of models) {
    const key = model.type === 'LOCAL' ? model.ownerId : `global:${model.id}`;
    const seen = latest.get(key);
    if (!seen || model.round > seen.round) {
      latest.set(key, model);
    }
  }
  return [...latest.values()];
}
