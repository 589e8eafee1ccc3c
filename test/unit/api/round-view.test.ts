import type { Metric } from '../../../src/db/models/metric';
import type { Notification } from '../../../src/db/models/notification';
import type { Round } from '../../../src/db/models/round';
import type { Training } from '../../../src/db/models/training';
import type { Upload } from '../../../src/db/models/upload';
import { aggregate, buildRoundViews, type RoundSources } from '../../../src/api/use-cases/round-view';

const T = '00000000-0000-4000-8000-000000000000';
const [A, B, C] = ['a', 'b', 'c'].map((x) => `00000000-0000-4000-8000-00000000000${x}`) as [string, string, string];
const at = new Date('2026-12-02T00:00:00Z');

function task(receiverId: string, type: string, round: number, state: string, reason: string | null): Notification {
  return {
    receiverId,
    type,
    round,
    taskState: state,
    doneReason: reason,
    doneMessage: reason === 'declined' ? 'busy' : null,
    deadline: at,
  } as unknown as Notification;
}

function upload(id: string, clientId: string, phase: string, round: number, sampleSize: number | null): Upload {
  return { id, clientId, phase, round, sampleSize, createdAt: at } as unknown as Upload;
}

function metric(uploadId: string | null, reporterId: string | null, key: string, value: number, step = 1): Metric {
  return { uploadId, reporterId, key, valueFloat: value, step } as unknown as Metric;
}

function sources(overrides: Partial<RoundSources> = {}): RoundSources {
  return {
    training: { id: T, state: 'C' } as unknown as Training,
    rounds: [{ id: '7', number: 0, startedAt: at, deadline: at } as unknown as Round],
    tasks: [
      task(A, 'UPDATE_ROUND_START', 0, 'DONE', 'uploaded'),
      task(B, 'UPDATE_ROUND_START', 0, 'DONE', 'uploaded'),
      task(C, 'UPDATE_ROUND_START', 0, 'DONE', 'declined'),
      task(A, 'MODEL_TEST_ROUND', 1, 'DONE', 'uploaded'),
      task(B, 'MODEL_TEST_ROUND', 1, 'DONE', 'deadline'),
    ],
    uploads: [upload('ua', A, 'update', 0, 300), upload('ub', B, 'update', 0, 100), upload('ta', A, 'test', 1, null)],
    metrics: [metric('ua', A, 'loss', 1), metric('ub', B, 'loss', 3), metric('ta', A, 'accuracy', 0.9)],
    versions: new Set([0, 1]),
    evaluations: [],
    ...overrides,
  };
}

describe('round views', () => {
  it('when the actor reads a round, it sees every client, reasons and sample-size-weighted aggregates', () => {
    const [view] = buildRoundViews(sources(), { id: 'actor', seesEveryone: true });
    expect(view).toMatchObject({
      round_id: 7,
      state: 'DONE',
      produced: 1,
      asked: 3,
      update_count: 2,
      sample_size_total: 400,
      test: { round: 1, reported: 1 },
      swag: null,
      left_out: [
        { client: C, phase: 'update', reason: 'declined', message: 'busy' },
        { client: B, phase: 'test', reason: 'deadline', message: null },
      ],
      update_metrics: { loss: { mean: 1.5, min: 1, max: 3, count: 2, weighted: true } },
      metrics: { accuracy: { mean: 0.9, count: 1, weighted: true } },
    });
    expect(view!.client_metrics).toHaveLength(3);
  });

  it('when a participant reads it, the aggregates are the same and every entry is its own', () => {
    const [actor] = buildRoundViews(sources(), { id: 'actor', seesEveryone: true });
    const [mine] = buildRoundViews(sources(), { id: B, seesEveryone: false });
    expect(mine!.update_metrics).toEqual(actor!.update_metrics);
    expect(mine!.updates.map((u) => u.client)).toEqual([B]);
    expect(mine!.left_out.map((l) => l.client)).toEqual([B]);
    expect(mine!.client_metrics).toEqual([{ client: B, phase: 'update', name: 'loss', value: 3 }]);
    expect(JSON.stringify(mine)).not.toContain(A);
    expect(JSON.stringify(mine)).not.toContain(C);
  });

  it('when updates are pending, the round is in UPDATE; aggregated but not produced yet, AGGREGATING or FAILED', () => {
    const pending = sources({ tasks: [task(A, 'UPDATE_ROUND_START', 0, 'PENDING', null)], versions: new Set([0]) });
    expect(buildRoundViews(pending, { id: A, seesEveryone: false })[0]!.state).toBe('UPDATE');
    const closed = sources({ tasks: [task(A, 'UPDATE_ROUND_START', 0, 'DONE', 'uploaded')], versions: new Set([0]) });
    const ongoing = { ...closed, training: { id: T, state: 'O' } as unknown as Training };
    expect(buildRoundViews(ongoing, { id: A, seesEveryone: false })[0]!.state).toBe('AGGREGATING');
    const failed = { ...closed, training: { id: T, state: 'E' } as unknown as Training };
    expect(buildRoundViews(failed, { id: A, seesEveryone: false })[0]!.state).toBe('FAILED');
    const testing = sources({ tasks: [task(A, 'MODEL_TEST_ROUND', 1, 'PENDING', null)] });
    expect(buildRoundViews(testing, { id: A, seesEveryone: false })[0]!.state).toBe('TEST');
  });

  it("shows the server's figures of the version the round started from and of the one it produced, and why one has none", () => {
    const evaluated = sources({
      metrics: [metric(null, null, 'accuracy', 0.12, 0), metric(null, null, 'accuracy', 0.59, 1)],
      evaluations: [
        { round: 0, state: 'done', error: null },
        { round: 1, state: 'failed', error: 'dataset 3 no longer exists' },
      ] as unknown as RoundSources['evaluations'],
    });
    const [view] = buildRoundViews(evaluated, { id: A, seesEveryone: false });
    expect(view).toMatchObject({
      server_metrics_started_from: { accuracy: 0.12 },
      server_metrics: { accuracy: 0.59 },
      evaluation_errors: { '1': 'dataset 3 no longer exists' },
    });
  });

  it('when a reporter has no update sample size, the mean is plain and says so', () => {
    const weights = new Map<string, number | null>([[A, 300]]);
    expect(aggregate([metric(null, A, 'acc', 1), metric(null, B, 'acc', 0)], weights)).toEqual({
      acc: { mean: 0.5, min: 0, max: 1, count: 2, weighted: false },
    });
    expect(aggregate([metric(null, A, 'acc', 1)], weights).acc!.weighted).toBe(true);
  });

  it("when a reporter was deleted, its figure still counts in the round's aggregate and is never taken for the server's", () => {
    // Metric.reporter is SET NULL on delete: the figure keeps its upload, at the step of the model's round.
    const orphaned = sources({
      metrics: [
        metric(null, null, 'accuracy', 0.7),
        metric('ta', A, 'accuracy', 0.9),
        metric('tb', null, 'accuracy', 0.5),
      ],
      uploads: [
        upload('ua', A, 'update', 0, 300),
        upload('ub', B, 'update', 0, 100),
        upload('ta', A, 'test', 1, null),
        upload('tb', B, 'test', 1, null),
      ],
    });
    const [view] = buildRoundViews(orphaned, { id: 'actor', seesEveryone: true });
    expect(view!.server_metrics).toEqual({ accuracy: 0.7 });
    // Without a reporter it has no update sample size: the mean is plain.
    expect(view!.metrics.accuracy).toMatchObject({ count: 2, mean: 0.7, weighted: false });
    expect(view!.client_metrics).toEqual([{ client: A, phase: 'test', name: 'accuracy', value: 0.9 }]);
  });

  it('when a training has many rounds and clients, each round shows its own tasks, uploads and figures only', () => {
    const clients = Array.from({ length: 300 }, (_, i) => `client-${i}`);
    const rounds = Array.from({ length: 40 }, (_, n) => ({
      id: String(100 + n),
      number: n,
      startedAt: at,
      deadline: at,
    }));
    const many = sources({
      rounds: rounds as unknown as Round[],
      // In round n, the first n + 1 clients upload (sample size n + 1); the others decline; each tester reports n.
      tasks: rounds.flatMap(({ number: n }) =>
        clients.flatMap((c, i) => [
          task(c, 'UPDATE_ROUND_START', n, 'DONE', i <= n ? 'uploaded' : 'declined'),
          task(c, 'MODEL_TEST_ROUND', n + 1, 'DONE', 'uploaded'),
        ]),
      ),
      uploads: rounds.flatMap(({ number: n }) => [
        ...clients.slice(0, n + 1).map((c) => upload(`u${n}-${c}`, c, 'update', n, n + 1)),
        ...clients.map((c) => upload(`t${n}-${c}`, c, 'test', n + 1, null)),
      ]),
      metrics: rounds.flatMap(({ number: n }) => [
        ...clients.map((c) => metric(`t${n}-${c}`, c, 'accuracy', n, n + 1)),
        metric(null, null, 'accuracy', n / 100, n),
      ]),
      versions: new Set(rounds.map(({ number: n }) => n).concat(rounds.length)),
    });
    const views = buildRoundViews(many, { id: 'actor', seesEveryone: true });
    expect(views).toHaveLength(40);
    for (const view of views) {
      const n = view.round;
      expect(view).toMatchObject({
        round_id: 100 + n,
        asked: 300,
        update_count: n + 1,
        sample_size_total: (n + 1) ** 2,
      });
      expect(view.left_out).toHaveLength(300 - (n + 1));
      expect(view.test).toEqual({ round: n + 1, deadline: at.toISOString(), reported: 300 });
      expect(view.metrics.accuracy).toMatchObject({ count: 300, min: n, max: n, weighted: false });
      expect(view.client_metrics).toHaveLength(300);
      expect(view.server_metrics_started_from).toEqual({ accuracy: n / 100 });
      expect(view.server_metrics).toEqual(n + 1 < 40 ? { accuracy: (n + 1) / 100 } : {});
    }
  });
});
