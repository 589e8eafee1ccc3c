import type { GroupWithMembers } from '../../../db/queries/groups';
import type { GroupResponse } from './schemas';

/** A group as the reference's `GroupSerializer` writes it, with its owner, visibility and members. */
export function presentGroup({ group, memberIds }: GroupWithMembers): GroupResponse {
  return { id: group.id, name: group.name, owner: group.ownerId, public: group.public, members: [...memberIds] };
}
