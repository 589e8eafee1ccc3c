import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import { addParticipants, deleteTraining, removeParticipants } from '../../db/queries/trainings';
import { countExistingUsers } from '../../db/queries/users';
import { invalidInput } from '../../errors';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { TrainingState } from '../../training-states';
import { actorTraining } from './training-access';

/** What the training commands work with. */
export interface TrainingDeps {
  readonly knex: Knex;
  readonly orchestrator: TrainingOrchestrator;
}

/** `POST /api/trainings/{id}/start/`: the actor starts a training in state INITIAL with at least one participant. */
export async function startTraining({ knex, orchestrator }: TrainingDeps, user: User, id: string): Promise<void> {
  const training = await actorTraining(knex, user, id);
  if ((training.participants ?? []).length === 0) {
    throw invalidInput('At least one participant must be registered!');
  }
  if (training.state !== TrainingState.INITIAL) {
    throw invalidInput(`Training ${training.id} is not in state INITIAL!`);
  }
  await orchestrator.start(training);
}

/** `PUT /api/trainings/{id}/clients/`: the actor registers participants (idempotent). */
export async function registerClients(
  { knex }: TrainingDeps,
  user: User,
  id: string,
  clients: readonly string[],
): Promise<void> {
  const training = await actorTraining(knex, user, id);
  await addParticipants(knex, training.id, await existingUserIds(knex, clients));
}

/** `DELETE /api/trainings/{id}/clients/`: the actor removes participants; the training's run is told who left. */
export async function removeClients(
  { knex, orchestrator }: TrainingDeps,
  user: User,
  id: string,
  clients: readonly string[],
): Promise<void> {
  const training = await actorTraining(knex, user, id);
  const removed = await removeParticipants(knex, training.id, await existingUserIds(knex, clients));
  if (removed.length > 0) {
    await orchestrator.removeClients(training, removed);
  }
}

/** `DELETE /api/trainings/{id}/`: the actor deletes a training; its run is cancelled first, the model stays. */
export async function removeTraining({ knex, orchestrator }: TrainingDeps, user: User, id: string): Promise<void> {
  const training = await actorTraining(knex, user, id, 'You are not the owner the training.');
  await orchestrator.cancel(training);
  await deleteTraining(knex, training.id);
}

/** The distinct ids of `clients` (case-folded), all of which must be users. @throws 400 when one is not. */
async function existingUserIds(knex: Knex, clients: readonly string[]): Promise<string[]> {
  const unique = [...new Set(clients.map((c) => c.toLowerCase()))];
  if ((await countExistingUsers(knex, unique)) !== unique.length) {
    throw invalidInput('Not all provided users were found!');
  }
  return unique;
}
