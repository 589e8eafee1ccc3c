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

/** Rounds `from` to `to`, both included. */
export interface RoundRange {
  readonly from: number;
  readonly to: number;
}

/** A training's rounds in order; only those of `range` when given. */
export async function listRounds(db: Knex, trainingId: string, range?: RoundRange): Promise<Round[]> {
  const query = Round.query(db).where({ trainingId }).orderBy('number');
  return await (range === undefined ? query : query.whereBetween('number', [range.from, range.to]));
}

/** A round by its id, unique across trainings. */
export async function findRoundById(db: Knex, roundId: number): Promise<Round | undefined> {
  return await Round.query(db).findById(roundId);
}
