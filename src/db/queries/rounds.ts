import type { Knex } from 'knex';
import { Round } from '../models/round';

/**
 * Records that a training's round `number` asked for its updates, once: a retried round start finds the row and
 * keeps its id (the `round_id` clients see), with the deadline of the latest try.
 */
export async function openRound(db: Knex, trainingId: string, number: number, deadline: Date | null): Promise<void> {
  await db.raw(
    `INSERT INTO rounds (training_id, number, deadline) VALUES (?, ?, ?)
     ON CONFLICT (training_id, number) DO UPDATE SET deadline = excluded.deadline`,
    [trainingId, number, deadline],
  );
}

/** A training's rounds in order. */
export async function listRounds(db: Knex, trainingId: string): Promise<Round[]> {
  return await Round.query(db).where({ trainingId }).orderBy('number');
}

/** A round by its id, unique across trainings. */
export async function findRoundById(db: Knex, roundId: number): Promise<Round | undefined> {
  return await Round.query(db).findById(roundId);
}
