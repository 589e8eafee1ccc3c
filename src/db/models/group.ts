import { Model, type RelationMappings } from 'objection';
import { User } from './user';

/** A named set of users (Django's `auth.Group` in the reference), owned by one of them. */
export class Group extends Model {
  static override tableName = 'groups';

  id!: number;
  name!: string;
  /** A member; null only when the owner's account was deleted (superusers then manage the group). */
  ownerId!: string | null;
  /** Listed to everyone, and anyone may join it. */
  public!: boolean;
  users?: User[];

  // knexSnakeCaseMappers renames identifiers in every query, so relation joins name columns in camelCase.
  static override relationMappings = (): RelationMappings => ({
    users: {
      relation: Model.ManyToManyRelation,
      modelClass: User,
      join: {
        from: 'groups.id',
        through: { from: 'group_memberships.groupId', to: 'group_memberships.userId' },
        to: 'users.id',
      },
    },
  });
}
