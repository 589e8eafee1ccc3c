import { Model } from 'objection';

/** A person or a client machine with an API token; actors own models and trainings, clients train. */
export class User extends Model {
  static override tableName = 'users';

  id!: string;
  username!: string;
  passwordHash!: string;
  token!: string;
  /** Keys the HMAC of the notifications pushed to the user; never shown except when (re)generated. */
  notificationSecret!: string;
  actor!: boolean;
  client!: boolean;
  messageEndpoint!: string;
  isSuperuser!: boolean;
  isActive!: boolean;
  firstName!: string;
  lastName!: string;
  email!: string;
  lastLogin!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}
