import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type AuthSettings, DEFAULT_AUTH_SETTINGS } from './auth/auth-settings';
import { DEFAULT_POSTGRES_HOME } from './dev/postgres-placement';
import { DEFAULT_POOL_NICE, INLINE_RUN_MS } from './inference/task';

/** The package root: `src/` and `dist/` both sit one level below it. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

const SEARCH_ATTRIBUTE_TYPES = ['Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'] as const;

const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

const temporalFileSchema = z
  .object({
    address: hostPort,
    namespace: z.string().min(1),
    taskQueue: z.string().min(1),
    devServer: z
      .object({
        ip: z.string().min(1),
        port,
        uiPort: port,
        dbFile: z.string().min(1),
        logLevel: z.enum(['debug', 'info', 'warn', 'error', 'never']),
      })
      .strict(),
    searchAttributes: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), z.enum(SEARCH_ATTRIBUTE_TYPES)),
    dynamicConfig: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .strict();

/** Temporal settings as `temporal.yaml` holds them. */
export type TemporalFileSettings = z.infer<typeof temporalFileSchema>;

const envSchema = z.object({
  /** Where the embedded Postgres, Temporal's SQLite file and the blobs live. */
  ROUNDHOUSE_STATE_DIR: z.string().min(1).default('.roundhouse'),
  /** Interface the API binds to. */
  ROUNDHOUSE_HOST: z.string().min(1).default('0.0.0.0'),
  /** API port; 8000 is the reference server's port, which its client library assumes. */
  PORT: port.default(8000),
  /**
   * The metrics port (`GET /metrics`, Prometheus text); unset: 9464 for the API and `dev`, 9465 for a worker; 0: any
   * free port; `off`: none.
   */
  ROUNDHOUSE_METRICS_PORT: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).optional(),
  /** The interface the metrics port listens on. */
  ROUNDHOUSE_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** `true` also serves `GET /metrics` on the public API port. */
  ROUNDHOUSE_METRICS_ON_API: z.enum(['true', 'false']).default('false'),
  /** An external Postgres; unset means the embedded one under the state directory. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Port of the embedded Postgres. */
  ROUNDHOUSE_EMBEDDED_PG_PORT: port.default(54329),
  /**
   * Run as root: where the embedded Postgres's binaries and data go when its `postgres` user cannot reach the clone
   * or the state directory.
   */
  ROUNDHOUSE_POSTGRES_HOME: z.string().min(1).default(DEFAULT_POSTGRES_HOME),
  /** Upper bound of pooled Postgres connections per process. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  /** An external Temporal frontend (host:port); unset means the dev server from temporal.yaml. */
  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).optional(),
  /** Where trainings put aggregations and evaluations; defaults to `<task queue>-aggregation`. */
  TEMPORAL_AGGREGATION_TASK_QUEUE: z.string().min(1).optional(),
  /** What `roundhouse worker` polls: `training` (workflows, light activities), `aggregation`, or both (the default). */
  ROUNDHOUSE_WORKER_QUEUES: z
    .string()
    .regex(
      /^(training|aggregation)(,(training|aggregation))?$/,
      'must be training, aggregation or training,aggregation',
    )
    .default('training,aggregation'),
  /** Aggregations (or evaluations) one worker runs at once; each holds about a model of float64 in memory. */
  ROUNDHOUSE_AGGREGATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** The `temporal` CLI binary; otherwise found on the PATH or in pip's scripts folder. */
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  /** The Temporal settings file. */
  ROUNDHOUSE_TEMPORAL_CONFIG: z.string().min(1).default(path.join(PACKAGE_ROOT, 'temporal.yaml')),
  /** Blob store folder; defaults to `<state dir>/blobs`. */
  ROUNDHOUSE_BLOB_DIR: z.string().min(1).optional(),
  /**
   * The blob store instead: `file:///folder` or `s3://bucket/prefix` (an S3-compatible bucket; region, credentials
   * and an endpoint override from the usual AWS variables).
   */
  ROUNDHOUSE_BLOB_URL: z
    .string()
    .regex(
      /^(file:\/\/\/.+|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?)$/,
      'must be file:///folder or s3://bucket/prefix',
    )
    .optional(),
  /** Path-style S3 addressing (bucket in the path); the default with an endpoint override, else virtual-hosted. */
  ROUNDHOUSE_S3_PATH_STYLE: z.enum(['true', 'false']).optional(),
  /** Blobs younger than this are never swept, so an upload between its blob write and its row is safe. */
  ROUNDHOUSE_BLOB_SWEEP_MIN_AGE_SECONDS: z.coerce.number().int().min(0).default(3600),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Largest accepted uploaded file (model, update, preprocessing, SWAG moments), in bytes; beyond it 413. */
  ROUNDHOUSE_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(512 * 1024 * 1024),
  /** Largest accepted JSON or form body (and the non-file fields of a multipart body), in bytes; beyond it 413. */
  ROUNDHOUSE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024 * 1024),
  /**
   * Largest accepted dataset upload (its file, or its two .npy files together), in bytes; beyond it 413. Dataset
   * uploads take this limit instead of ROUNDHOUSE_MAX_UPLOAD_BYTES.
   */
  ROUNDHOUSE_MAX_DATASET_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(256 * 1024 * 1024),
  /**
   * Largest accepted metric value stored as bytes (a picture, or text), in bytes; beyond it 413. The metrics route's
   * body limit grows to fit four such values in base64.
   */
  ROUNDHOUSE_MAX_METRIC_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(4 * 1024 * 1024),
  /**
   * The longest a task long-poll (`GET /api/users/myself/tasks/?wait=S`) holds its request: a larger `wait` (up to
   * the API's limit of 60) is shortened to it. Lower it behind a proxy that cuts idle requests sooner.
   */
  ROUNDHOUSE_MAX_POLL_WAIT_SECONDS: z.coerce.number().int().min(0).max(60).default(60),
  /** How long an upload waits for its training's workflow to take it before the API answers 503 with Retry-After. */
  ROUNDHOUSE_UPLOAD_WAIT_SECONDS: z.coerce.number().positive().default(10),
  /** Time limit of one notification push. */
  ROUNDHOUSE_NOTIFY_TIMEOUT_SECONDS: z.coerce.number().positive().default(10),
  /** Pushes per notification before its receiver counts as unreachable and leaves the training. */
  ROUNDHOUSE_NOTIFY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** Wait before the second push; doubled for each further one. */
  ROUNDHOUSE_NOTIFY_BACKOFF_SECONDS: z.coerce.number().min(0).default(1),
  /** Pushes in flight at once per notification. */
  ROUNDHOUSE_NOTIFY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  /**
   * Whether notification endpoints may resolve to loopback, private or link-local addresses (server-side request
   * forgery otherwise). Unset: allowed by `roundhouse dev` (clients on the same machine), refused by the other roles.
   */
  ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS: z.enum(['true', 'false']).optional(),
  /** Inference threads (`worker_threads`) of an API process; each keeps its own sessions. */
  ROUNDHOUSE_INFERENCE_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** onnxruntime's intra-op threads per inference session. */
  ROUNDHOUSE_INFERENCE_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * onnxruntime's intra-op threads for an inference that has the pool to itself (docs/inference.md#the-session-pool):
   * a lone request runs on every core, each of many on one. Default: the cores; at most the intra-op threads: off.
   */
  ROUNDHOUSE_INFERENCE_WIDE_THREADS: z.coerce.number().int().min(1).max(64).default(os.availableParallelism()),
  /** Bytes of model whose sessions each inference thread keeps cached (least recently used out). */
  ROUNDHOUSE_INFERENCE_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(512 * 1024 * 1024),
  /** Inference requests waiting for a thread beyond which a new one answers 503 with Retry-After. */
  ROUNDHOUSE_INFERENCE_MAX_QUEUED: z.coerce.number().int().min(1).default(64),
  /**
   * Milliseconds under which a kind of inference task, once measured on a thread, runs on the API thread instead
   * (no hop to a thread and back); 0 keeps every task on the threads.
   */
  ROUNDHOUSE_INFERENCE_INLINE_MS: z.coerce.number().min(0).max(5).default(INLINE_RUN_MS),
  /**
   * Nice steps the inference threads and onnxruntime's run below the API thread (Linux), so that requests do not
   * wait for a core behind inference; 0 runs them at the process's priority.
   */
  ROUNDHOUSE_INFERENCE_NICE: z.coerce.number().int().min(0).max(19).default(DEFAULT_POOL_NICE),
  /**
   * Whether `GET /api/dummy/` serves: anyone may then create demo data and get the token of its `dummy-user`. For
   * demos and development only; unset or `false`, the path does not exist.
   */
  ROUNDHOUSE_DEMO_DATA: z.enum(['true', 'false']).default('false'),
  /** A session unused for this long ends (docs/api.md#sessions). */
  ROUNDHOUSE_SESSION_IDLE_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_AUTH_SETTINGS.sessionIdleSeconds),
  /** A session ends this long after its login, however much it is used. */
  ROUNDHOUSE_SESSION_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_AUTH_SETTINGS.sessionMaxAgeSeconds),
  /** Failed logins per user name within the window beyond which the next answers 429. */
  ROUNDHOUSE_LOGIN_FAILURES_PER_USERNAME: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_AUTH_SETTINGS.failuresPerUsername),
  /** Failed logins per client address within the window beyond which the next answers 429. */
  ROUNDHOUSE_LOGIN_FAILURES_PER_ADDRESS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_AUTH_SETTINGS.failuresPerAddress),
  /** The window failed logins are counted over. */
  ROUNDHOUSE_LOGIN_FAILURE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_AUTH_SETTINGS.failureWindowSeconds),
  /** The built dashboard served at `/ui/` (`npm run build` writes it). */
  ROUNDHOUSE_UI_DIR: z
    .string()
    .min(1)
    .default(path.join(PACKAGE_ROOT, 'dist', 'ui')),
  /**
   * The Temporal Web UI the dashboard links each training's workflow to; unset: the dev server's UI of temporal.yaml
   * when Roundhouse runs the dev server, else no link.
   */
  ROUNDHOUSE_TEMPORAL_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Searched for the `temporal` CLI. */
  PATH: z.string().default(''),
});

/** The validated, frozen configuration every entry point builds its dependencies from. */
export interface Config {
  readonly stateDir: string;
  readonly http: { readonly host: string; readonly port: number };
  /** `port` undefined: the role's default (`metricsPort`); null: no metrics port. */
  readonly metrics: { readonly host: string; readonly port: number | null | undefined; readonly onApi: boolean };
  readonly db: {
    /** Connection string; for the embedded database it is filled in once that database runs. */
    readonly url: string | undefined;
    readonly poolMax: number;
    readonly embedded: { readonly port: number; readonly dataDir: string; readonly home: string } | undefined;
  };
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly taskQueue: string;
    /** The heavy activities' task queue (aggregations, evaluations). */
    readonly aggregationTaskQueue: string;
    /** Set when Roundhouse must start the dev server itself (TEMPORAL_ADDRESS unset). */
    readonly devServer: (TemporalFileSettings['devServer'] & { readonly dbPath: string }) | undefined;
    readonly searchAttributes: TemporalFileSettings['searchAttributes'];
    readonly dynamicConfig: TemporalFileSettings['dynamicConfig'];
    readonly cliPath: string | undefined;
  };
  /** What a worker process polls, and how many heavy activities it runs at once. */
  readonly worker: {
    readonly queues: readonly ('training' | 'aggregation')[];
    readonly aggregationConcurrency: number;
  };
  readonly blobs: {
    /** `file:///folder` or `s3://bucket/prefix`. */
    readonly url: string;
    readonly s3PathStyle: boolean | undefined;
    readonly sweepMinAgeMs: number;
  };
  readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error' };
  /** Request size limits of the API. */
  readonly limits: {
    readonly uploadBytes: number;
    readonly bodyBytes: number;
    readonly metricBytes: number;
    readonly datasetBytes: number;
  };
  /** Notification pushes; `allowPrivateAddresses` undefined means the role decides (see the variable). */
  readonly notifications: {
    readonly timeoutMs: number;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly concurrency: number;
    readonly allowPrivateAddresses: boolean | undefined;
  };
  /** How long an upload waits for its training's workflow. */
  readonly uploadWaitMs: number;
  /** The longest a task long-poll holds its request. */
  readonly maxPollWaitMs: number;
  /** The API's inference pool (docs/inference.md#the-session-pool). */
  readonly inference: {
    readonly threads: number;
    readonly intraOpNumThreads: number;
    readonly wideIntraOpThreads: number;
    readonly cacheBytesPerThread: number;
    readonly maxQueued: number;
    readonly inlineRunMs: number;
    readonly nice: number;
  };
  /** Whether the API serves `GET /api/dummy/`, which creates demo data for anyone (docs/api.md#demo-data). */
  readonly demoData: boolean;
  /** Session lifetimes and failed-login limits of the API. */
  readonly auth: AuthSettings;
  /** The dashboard at `/ui/`: its built files, and the Temporal Web UI it links to (undefined: no link). */
  readonly dashboard: { readonly assetsDir: string; readonly temporalUiUrl: string | undefined };
  /** The PATH, searched for the `temporal` CLI. */
  readonly systemPath: string;
}

/** Thrown when the environment or temporal.yaml is invalid; `problems` lists every one of them. */
export class ConfigError extends Error {
  readonly code = 'invalid_configuration';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function formatIssues(source: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${source}${issue.path.length ? ` ${issue.path.join('.')}` : ''}: ${issue.message}`);
}

/** Reads and validates `temporal.yaml`; returns its settings or the problems found. */
export function readTemporalFile(file: string): { settings?: TemporalFileSettings; problems: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { problems: [`${file}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const parsed = temporalFileSchema.safeParse(raw);
  if (!parsed.success) {
    return { problems: formatIssues(file, parsed.error.issues) };
  }
  return { settings: parsed.data, problems: [] };
}

/**
 * Parses the environment (and the temporal.yaml it points to) once at start.
 * @throws ConfigError listing every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsedEnv = envSchema.safeParse(env);
  const problems = parsedEnv.success ? [] : formatIssues('env', parsedEnv.error.issues);
  const temporalFile = env.ROUNDHOUSE_TEMPORAL_CONFIG ?? envSchema.shape.ROUNDHOUSE_TEMPORAL_CONFIG.parse(undefined);
  const { settings, problems: fileProblems } = readTemporalFile(temporalFile);
  problems.push(...fileProblems);
  if (!parsedEnv.success || !settings || problems.length > 0) {
    throw new ConfigError(problems);
  }
  const e = parsedEnv.data;
  const stateDir = path.resolve(e.ROUNDHOUSE_STATE_DIR);
  const devAddress = `${settings.devServer.ip}:${settings.devServer.port}`;
  if (!e.TEMPORAL_ADDRESS && settings.address !== devAddress) {
    throw new ConfigError([
      `${temporalFile} address: ${settings.address} is not the dev server's ${devAddress}; set TEMPORAL_ADDRESS to use an external Temporal`,
    ]);
  }
  if (e.ROUNDHOUSE_BLOB_URL !== undefined && e.ROUNDHOUSE_BLOB_DIR !== undefined) {
    throw new ConfigError(['env ROUNDHOUSE_BLOB_DIR: set either ROUNDHOUSE_BLOB_URL or ROUNDHOUSE_BLOB_DIR, not both']);
  }
  const devServer = e.TEMPORAL_ADDRESS
    ? undefined
    : { ...settings.devServer, dbPath: path.resolve(stateDir, settings.devServer.dbFile) };
  return deepFreeze({
    stateDir,
    http: { host: e.ROUNDHOUSE_HOST, port: e.PORT },
    metrics: {
      host: e.ROUNDHOUSE_METRICS_HOST,
      port: e.ROUNDHOUSE_METRICS_PORT === 'off' ? null : e.ROUNDHOUSE_METRICS_PORT,
      onApi: e.ROUNDHOUSE_METRICS_ON_API === 'true',
    },
    db: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      embedded: e.DATABASE_URL
        ? undefined
        : {
            port: e.ROUNDHOUSE_EMBEDDED_PG_PORT,
            dataDir: path.join(stateDir, 'postgres'),
            home: path.resolve(e.ROUNDHOUSE_POSTGRES_HOME),
          },
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? settings.address,
      namespace: e.TEMPORAL_NAMESPACE ?? settings.namespace,
      taskQueue: e.TEMPORAL_TASK_QUEUE ?? settings.taskQueue,
      aggregationTaskQueue:
        e.TEMPORAL_AGGREGATION_TASK_QUEUE ?? `${e.TEMPORAL_TASK_QUEUE ?? settings.taskQueue}-aggregation`,
      devServer,
      searchAttributes: settings.searchAttributes,
      dynamicConfig: settings.dynamicConfig,
      cliPath: e.TEMPORAL_CLI_PATH,
    },
    worker: {
      queues: [...new Set(e.ROUNDHOUSE_WORKER_QUEUES.split(','))] as ('training' | 'aggregation')[],
      aggregationConcurrency: e.ROUNDHOUSE_AGGREGATION_CONCURRENCY,
    },
    blobs: {
      url:
        e.ROUNDHOUSE_BLOB_URL ??
        pathToFileURL(path.resolve(e.ROUNDHOUSE_BLOB_DIR ?? path.join(stateDir, 'blobs'))).href,
      s3PathStyle: e.ROUNDHOUSE_S3_PATH_STYLE === undefined ? undefined : e.ROUNDHOUSE_S3_PATH_STYLE === 'true',
      sweepMinAgeMs: e.ROUNDHOUSE_BLOB_SWEEP_MIN_AGE_SECONDS * 1000,
    },
    log: { level: e.LOG_LEVEL },
    limits: {
      uploadBytes: e.ROUNDHOUSE_MAX_UPLOAD_BYTES,
      bodyBytes: e.ROUNDHOUSE_MAX_BODY_BYTES,
      metricBytes: e.ROUNDHOUSE_MAX_METRIC_BYTES,
      datasetBytes: e.ROUNDHOUSE_MAX_DATASET_BYTES,
    },
    notifications: {
      timeoutMs: e.ROUNDHOUSE_NOTIFY_TIMEOUT_SECONDS * 1000,
      attempts: e.ROUNDHOUSE_NOTIFY_ATTEMPTS,
      backoffMs: e.ROUNDHOUSE_NOTIFY_BACKOFF_SECONDS * 1000,
      concurrency: e.ROUNDHOUSE_NOTIFY_CONCURRENCY,
      allowPrivateAddresses:
        e.ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS === undefined
          ? undefined
          : e.ROUNDHOUSE_ALLOW_PRIVATE_ENDPOINTS === 'true',
    },
    uploadWaitMs: e.ROUNDHOUSE_UPLOAD_WAIT_SECONDS * 1000,
    maxPollWaitMs: e.ROUNDHOUSE_MAX_POLL_WAIT_SECONDS * 1000,
    inference: {
      threads: e.ROUNDHOUSE_INFERENCE_THREADS,
      intraOpNumThreads: e.ROUNDHOUSE_INFERENCE_INTRA_OP_THREADS,
      wideIntraOpThreads: e.ROUNDHOUSE_INFERENCE_WIDE_THREADS,
      cacheBytesPerThread: e.ROUNDHOUSE_INFERENCE_CACHE_BYTES,
      maxQueued: e.ROUNDHOUSE_INFERENCE_MAX_QUEUED,
      inlineRunMs: e.ROUNDHOUSE_INFERENCE_INLINE_MS,
      nice: e.ROUNDHOUSE_INFERENCE_NICE,
    },
    demoData: e.ROUNDHOUSE_DEMO_DATA === 'true',
    auth: {
      sessionIdleSeconds: e.ROUNDHOUSE_SESSION_IDLE_SECONDS,
      sessionMaxAgeSeconds: e.ROUNDHOUSE_SESSION_MAX_AGE_SECONDS,
      failuresPerUsername: e.ROUNDHOUSE_LOGIN_FAILURES_PER_USERNAME,
      failuresPerAddress: e.ROUNDHOUSE_LOGIN_FAILURES_PER_ADDRESS,
      failureWindowSeconds: e.ROUNDHOUSE_LOGIN_FAILURE_WINDOW_SECONDS,
    },
    dashboard: {
      assetsDir: path.resolve(e.ROUNDHOUSE_UI_DIR),
      temporalUiUrl:
        e.ROUNDHOUSE_TEMPORAL_UI_URL?.replace(/\/+$/, '') ??
        (devServer ? `http://${devServer.ip}:${devServer.uiPort}` : undefined),
    },
    systemPath: e.PATH,
  });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') {
      deepFreeze(child as object);
    }
  }
  return Object.freeze(value);
}
