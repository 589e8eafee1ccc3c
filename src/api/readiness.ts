import type { Connection } from '@temporalio/client';
import type { Knex } from 'knex';

/** The outcome of one dependency check. */
export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** A named dependency check, run by `GET /api/ready/`. */
export type ReadinessCheck = () => Promise<CheckResult>;

const TIMEOUT_MS = 3_000;

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function failure(err: unknown): CheckResult {
  return { ok: false, detail: err instanceof Error ? err.message : String(err) };
}

/** Postgres answers a trivial query. */
export function postgresCheck(knex: Knex): ReadinessCheck {
  return async () => {
    try {
      await withTimeout(knex.raw('SELECT 1'), 'Postgres');
      return { ok: true, detail: 'reachable' };
    } catch (err) {
      return failure(err);
    }
  };
}

/** The Temporal frontend answers its gRPC health check and knows our namespace. */
export function temporalCheck(connection: Connection, namespace: string): ReadinessCheck {
  return async () => {
    try {
      await connection.withDeadline(Date.now() + TIMEOUT_MS, () =>
        connection.workflowService.describeNamespace({ namespace }),
      );
      return { ok: true, detail: 'reachable' };
    } catch (err) {
      return failure(err);
    }
  };
}
