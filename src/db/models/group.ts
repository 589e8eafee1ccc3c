import { Model, type RelationMappings } from 'objection';
import { User } from './user';

/** A named set of users (Django's `auth.Group` in the reference). */
export class Group extends Model {
  static override tableName = 'groups';

  id!: number;
  name!: string;
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
