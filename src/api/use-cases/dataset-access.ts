import type { Knex } from 'knex';
import type { Dataset } from '../../db/models/dataset';
import type { User } from '../../db/models/user';
import { findDatasetById, listDatasetsOfUser, takesPartWithDataset } from '../../db/queries/datasets';
import { forbidden, notFound } from '../../errors';

/** A dataset and how the caller stands to it: its owner, or the actor or a participant of a training naming it. */
export interface DatasetAccess {
  readonly dataset: Dataset;
  readonly owner: boolean;
}

/** The caller's datasets and those named by the trainings it acts in or takes part in (metadata only). */
export async function visibleDatasets(knex: Knex, user: User): Promise<Dataset[]> {
  return await listDatasetsOfUser(knex, user.id);
}

/**
 * A dataset whose metadata the caller may read: its owner, and the actor and participants of a training naming it.
 * @throws 404 for anyone else, and for a missing dataset.
 */
export async function visibleDataset(knex: Knex, user: User, id: number): Promise<DatasetAccess> {
  const dataset = await findDatasetById(knex, id);
  const owner = dataset?.ownerId === user.id;
  if (!dataset || (!owner && !(await takesPartWithDataset(knex, id, user.id)))) {
    throw notFound(`Dataset ${id} not found.`);
  }
  return { dataset, owner };
}

/**
 * A dataset whose rows the caller may read: its owner's, or a shared one of a training the caller takes part in.
 * @throws 403 when the caller may see the dataset but its owner does not share it, 404 as `visibleDataset`.
 */
export async function readableDataset(knex: Knex, user: User, id: number): Promise<Dataset> {
  const { dataset } = await visibleDataset(knex, user, id);
  if (!mayReadRows(dataset, user)) {
    throw forbidden(`Dataset ${id} is not shared with participants: only its owner may read its rows.`);
  }
  return dataset;
}

/** The datasets whose rows the caller may read: its own, and the shared ones of the trainings it takes part in. */
export async function readableDatasets(knex: Knex, user: User): Promise<Dataset[]> {
  return (await visibleDatasets(knex, user)).filter((dataset) => mayReadRows(dataset, user));
}

/** Of a dataset the caller sees: its owner reads its rows, others when the owner shares them. */
function mayReadRows(dataset: Dataset, user: User): boolean {
  return dataset.ownerId === user.id || dataset.shareWithParticipants;
}

/** A dataset only its owner may change. @throws 403 for others who may see it, 404 as `visibleDataset`. */
export async function ownedDataset(knex: Knex, user: User, id: number): Promise<Dataset> {
  const { dataset, owner } = await visibleDataset(knex, user, id);
  if (!owner) {
    throw forbidden(`Only the owner of dataset ${id} may delete it.`);
  }
  return dataset;
}
