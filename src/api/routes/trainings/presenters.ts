import type { Training } from '../../../db/models/training';
import type { TrainingResponse } from './schemas';

/** A training as the reference's `TrainingSerializer` writes it; `locked` is always false (no locks exist here). */
export function presentTraining(training: Training): TrainingResponse {
  return {
    id: training.id,
    state: training.state,
    target_num_updates: training.targetNumUpdates,
    last_update: training.updatedAt.toISOString(),
    uncertainty_method: training.uncertaintyMethod,
    aggregation_method: training.aggregationMethod,
    options: training.options,
    locked: false,
    model: training.modelId,
    actor: training.actorId,
    participants: (training.participants ?? []).map((user) => user.id),
    group: training.groupId,
  };
}
