import type { Knex } from 'knex';
import type { User } from '../../db/models/user';
import type { Training } from '../../db/models/training';
import { isGroupMember } from '../../db/queries/groups';
import { addParticipants, deleteTraining, findTrainingById, removeParticipants } from '../../db/queries/trainings';
import { countExistingUsers } from '../../db/queries/users';
import { forbidden, invalidInput, notFound } from '../../errors';
import type { TrainingOrchestrator } from '../training-orchestrator';
import { TrainingState } from '../../training-states';
import { actorTraining, isMember } from './training-access';

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

/**
 * `PUT /api/trainings/{id}/clients/`: the actor registers participants (idempotent). A running training's run is told,
 * and they take part from its next round start.
 */
export async function registerClients(
  deps: TrainingDeps,
  user: User,
  id: string,
  clients: readonly string[],
): Promise<void> {
  const training = await actorTraining(deps.knex, user, id);
  await admit(deps, training, await existingUserIds(deps.knex, clients));
}

/**
 * `POST /api/trainings/{id}/join/`: a member of the training's group joins it (idempotent), and takes part from the
 * next round start of a running training.
 * @throws 404 when the caller may neither read the training nor join it, 403 when it may read it but not join
 *   (no group, or not a member), 400 when the training is over.
 */
export async function joinTraining(deps: TrainingDeps, user: User, id: string): Promise<Training> {
  const training = await findTrainingById(deps.knex, id);
  const member = training?.groupId != null && (await isGroupMember(deps.knex, training.groupId, user.id));
  if (!training || (!member && !isMember(training, user))) {
    throw notFound(`Training ${id} not found.`);
  }
  if (!member) {
    throw forbidden(
      training.groupId === null
        ? `Training ${training.id} is open to no group; its actor adds participants.`
        : `You are not a member of group ${training.groupId}, which training ${training.id} is open to.`,
    );
  }
  if (training.state === TrainingState.COMPLETED || training.state === TrainingState.ERROR) {
    throw invalidInput(`Training ${training.id} is in state ${training.state}; it takes no new participants.`);
  }
  await admit(deps, training, [user.id]);
  return training;
}

/** Stores new participants, then tells a running training's run, which takes them from its next round start. */
async function admit({ knex, orchestrator }: TrainingDeps, training: Training, userIds: string[]): Promise<void> {
  await addParticipants(knex, training.id, userIds);
  if (training.state === TrainingState.ONGOING || training.state === TrainingState.SWAG_ROUND) {
    await orchestrator.addClients(training, userIds);
  }
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
