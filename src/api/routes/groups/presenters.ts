import type { Group } from '../../../db/models/group';
import type { GroupResponse } from './schemas';

/** A group as the reference's `GroupSerializer` writes it. */
export function presentGroup(group: Group): GroupResponse {
  return { id: group.id, name: group.name };
}
