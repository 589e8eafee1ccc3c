import type { Knex } from 'knex';
import { hashPassword } from '../../auth/passwords';
import { generateNotificationSecret, generateToken } from '../../auth/tokens';
import type { User } from '../../db/models/user';
import { findUserByUsername, insertUser, type NewUser } from '../../db/queries/users';
import { invalidInput } from '../../errors';
import { isUniqueViolation } from '../../db/constraint-errors';

/** A new user's fields as the registration form names them. */
export interface NewUserInput {
  readonly username: string;
  readonly password: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly email: string;
  readonly message_endpoint: string;
  readonly actor: boolean;
  readonly client: boolean;
}

/** The reference's (Django's) wording for a taken user name. */
const USERNAME_TAKEN = 'A user with that username already exists.';

/** Registers a user from the whitelisted fields, with an argon2 password hash, a fresh token and notification secret. */
export async function registerUser(knex: Knex, request: NewUserInput): Promise<User> {
  if (await findUserByUsername(knex, request.username)) {
    throw invalidInput(USERNAME_TAKEN, { username: [USERNAME_TAKEN] });
  }
  try {
    return await insertUser(knex, newUserRow(request, await hashPassword(request.password)));
  } catch (err) {
    // Two registrations of one name at once: the unique index decides, the loser gets the same answer.
    if (isUniqueViolation(err)) {
      throw invalidInput(USERNAME_TAKEN, { username: [USERNAME_TAKEN] });
    }
    throw err;
  }
}

/** The row of a new user: the whitelisted fields, the given password hash, a fresh token and notification secret. */
export function newUserRow(request: Omit<NewUserInput, 'password'>, passwordHash: string): NewUser {
  return {
    username: request.username,
    passwordHash,
    token: generateToken(),
    notificationSecret: generateNotificationSecret(),
    firstName: request.first_name,
    lastName: request.last_name,
    email: request.email,
    actor: request.actor,
    client: request.client,
    messageEndpoint: request.message_endpoint,
  };
}
