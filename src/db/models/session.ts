import { Model } from 'objection';

/** A browser (or job client) session: the SHA-256 of its cookie's key, its user and its CSRF token. */
export class Session extends Model {
  static override tableName = 'sessions';
  static override idColumn = 'keyHash';

  keyHash!: string;
  userId!: string;
  csrfToken!: string;
  createdAt!: Date;
  lastUsedAt!: Date;
}
