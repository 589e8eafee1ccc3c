import type { z } from 'zod';
import type { notificationSecretResponse, tokenResponse } from '../api/routes/auth/schemas';
import type { datasetResponse, pointsResponse } from '../api/routes/datasets/schemas';
import type { createGroupBody, groupResponse, patchGroupBody } from '../api/routes/groups/schemas';
import type {
  modelCreatedResponse,
  modelMetadataResponse,
  modelResponse,
  modelRoundsResponse,
} from '../api/routes/models/schemas';
import type { metricResponse } from '../api/routes/models/upload-schemas';
import type { taskResponse } from '../api/routes/tasks/schemas';
import type { declineResponse, roundResponse } from '../api/routes/trainings/round-schemas';
import type {
  createTrainingBody,
  trainingCreatedResponse,
  trainingResponse,
  trainingWithRoundsResponse,
} from '../api/routes/trainings/schemas';
import type { createUserBody, userResponse } from '../api/routes/users/schemas';
import { type Credentials, HttpClient, type HttpOptions, type ProgressCallback } from './http';
import { type FileContent, multipartBody } from './multipart';

// Every request and answer type is the server's own zod schema's: the SDK and the API cannot drift apart.
export type User = z.output<typeof userResponse>;
export type NewUser = z.input<typeof createUserBody>;
export type Model = z.output<typeof modelResponse>;
export type ModelMetadata = z.output<typeof modelMetadataResponse>;
export type ModelRound = z.output<typeof modelRoundsResponse>[number];
export type Metric = z.output<typeof metricResponse>;
export type Training = z.output<typeof trainingResponse>;
export type TrainingStatus = z.output<typeof trainingWithRoundsResponse>;
export type NewTraining = z.input<typeof createTrainingBody>;
export type Round = z.output<typeof roundResponse>;
export type Task = z.output<typeof taskResponse>;
export type Dataset = z.output<typeof datasetResponse>;
export type DatasetPoints = z.output<typeof pointsResponse>;
export type Group = z.output<typeof groupResponse>;
export type NewGroup = z.input<typeof createGroupBody>;
export type GroupChange = z.input<typeof patchGroupBody>;

/** A metric value as the API takes it: a number, or text (a picture as base64, a note). */
export type MetricValue = number | string;

/** Progress of an upload or a download. */
export interface TransferOptions {
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

/** A new global model: its file and what the reference's form takes with it. */
export interface NewModel extends TransferOptions {
  readonly file: FileContent;
  readonly name: string;
  readonly description?: string;
  /** One entry per input dimension, null for a free one (the batch): `[null, 1, 28, 28]`. */
  readonly inputShape?: ReadonlyArray<number | null>;
  readonly type?: 'GLOBAL' | 'SWAG';
  /** An ONNX preprocessing graph run before the model at inference. */
  readonly preprocessing?: FileContent;
}

/** A local update for one round, with its sample size and optional metrics. */
export interface NewUpdate extends TransferOptions {
  readonly file: FileContent;
  readonly round: number;
  readonly sampleSize: number;
  readonly metrics?: Readonly<Record<string, MetricValue>>;
}

/** A dataset upload: one safetensors file with `x` and `y`, or two `.npy` files. */
export interface NewDataset extends TransferOptions {
  readonly name: string;
  readonly description?: string;
  readonly shareWithParticipants?: boolean;
  readonly files: { readonly safetensors: FileContent } | { readonly x: FileContent; readonly y: FileContent };
}

/** An inference request (docs/inference.md). */
export interface InferenceRequest {
  readonly modelId: string;
  /** Nested lists of numbers, or base64 float32 with its shape in `options.shape`. */
  readonly input: unknown;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Settings of a `RoundhouseClient`: the server, the credentials, the retry policy. */
export type ClientOptions = HttpOptions;

/**
 * The Roundhouse API as methods, one per endpoint under `/api`, typed by the server's own schemas. Answers that are
 * not 2xx throw `RoundhouseApiError` (status, `detail`, `details.reason`); the transport retries what is safe to
 * retry (`HttpClient`). Paths end with the slash the reference's clients send.
 */
export class RoundhouseClient {
  readonly http: HttpClient;

  constructor(options: ClientOptions | HttpClient) {
    this.http = options instanceof HttpClient ? options : new HttpClient(options);
  }

  /** The same client acting as another user. */
  as(credentials: Credentials): RoundhouseClient {
    return new RoundhouseClient(this.http.withCredentials(credentials));
  }

  // --- users and authentication ------------------------------------------------------------------------------------

  readonly users = {
    /** Registers a user (anonymous); the answer carries its `token` and `notification_secret`. */
    register: (user: NewUser): Promise<User> => this.http.json('POST', '/api/users/', { json: user }),
    me: (): Promise<User> => this.http.json('GET', '/api/users/myself/'),
    list: (): Promise<User[]> => this.http.json('GET', '/api/users/'),
    get: (id: string): Promise<User> => this.http.json('GET', `/api/users/${enc(id)}/`),
    groups: (): Promise<Group[]> => this.http.json('GET', '/api/users/groups/'),
    trainings: (): Promise<Training[]> => this.http.json('GET', '/api/users/trainings/'),
  };

  readonly auth = {
    /** Replaces the caller's API token; the old one stops working at once. */
    rotateToken: async (): Promise<string> =>
      (await this.http.json<z.output<typeof tokenResponse>>('POST', '/api/auth/token/')).token,
    /** Replaces the secret pushes are signed with, and answers the new one. */
    rotateNotificationSecret: async (): Promise<string> =>
      (await this.http.json<z.output<typeof notificationSecretResponse>>('POST', '/api/auth/notification-secret/'))
        .notification_secret,
  };

  // --- models ------------------------------------------------------------------------------------------------------

  readonly models = {
    list: (): Promise<Model[]> => this.http.json('GET', '/api/models/'),
    /** Uploads a global (or SWAG) model: ONNX, or a PyTorch archive. Answers its id. */
    upload: async (model: NewModel): Promise<string> => {
      const fields: Array<[string, string]> = [
        ['name', model.name],
        ['description', model.description ?? ''],
        ...(model.type === undefined ? [] : [['type', model.type] as [string, string]]),
        ...(model.inputShape ?? []).map((dim): [string, string] => [
          'input_shape',
          dim === null ? 'None' : String(dim),
        ]),
      ];
      const files = [
        { field: 'model_file', content: model.file },
        ...(model.preprocessing === undefined
          ? []
          : [{ field: 'model_preprocessing_file', content: model.preprocessing }]),
      ];
      const created = await this.http.json<z.output<typeof modelCreatedResponse>>('POST', '/api/models/', {
        multipart: await multipartBody({ fields, files }),
        ...transfer(model),
      });
      return created.model_id;
    },
    /** A model's bytes: its latest round, or `round`. */
    download: async (id: string, options: TransferOptions & { round?: number } = {}): Promise<Buffer> =>
      (
        await this.http.bytes('GET', `/api/models/${enc(id)}/`, {
          query: { round: options.round },
          ...(options.onProgress ? { onDownloadProgress: options.onProgress } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        })
      ).bytes,
    /** A model's bytes streamed into `file` (written whole or not at all); answers the bytes written. */
    downloadTo: (id: string, file: string, options: TransferOptions & { round?: number } = {}): Promise<number> =>
      this.http.download(`/api/models/${enc(id)}/`, file, {
        query: { round: options.round },
        ...(options.onProgress ? { onDownloadProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    metadata: (id: string): Promise<ModelMetadata> => this.http.json('GET', `/api/models/${enc(id)}/metadata/`),
    rounds: (id: string): Promise<ModelRound[]> => this.http.json('GET', `/api/models/${enc(id)}/rounds/`),
    delete: (id: string): Promise<unknown> => this.http.json('DELETE', `/api/models/${enc(id)}/`),
    metrics: (id: string): Promise<Metric[]> => this.http.json('GET', `/api/models/${enc(id)}/metrics/`),
    /** One metric's value as served: the bytes of a binary metric (a picture), the JSON of a number. */
    metricValue: async (id: string, metricId: number): Promise<Buffer> =>
      (await this.http.bytes('GET', `/api/models/${enc(id)}/metrics/${metricId}/`)).bytes,
    /**
     * A participant's update for the current round. Safe to retry: the server answers a repeat of the same upload as
     * it answered the first.
     */
    uploadUpdate: async (globalModelId: string, update: NewUpdate): Promise<void> => {
      const fields: Array<[string, string | number]> = [
        ['round', update.round],
        ['sample_size', update.sampleSize],
        ...metricFields(update.metrics),
      ];
      await this.http.json('POST', `/api/models/${enc(globalModelId)}/`, {
        multipart: await multipartBody({ fields, files: [{ field: 'model_file', content: update.file }] }),
        idempotent: true,
        ...transfer(update),
      });
    },
    /** A participant's test metrics of the current global model (a test round); safe to retry. */
    uploadMetrics: async (globalModelId: string, metrics: Readonly<Record<string, MetricValue>>): Promise<void> => {
      await this.http.json('POST', `/api/models/${enc(globalModelId)}/metrics/`, {
        json: { metric_names: Object.keys(metrics), metric_values: Object.values(metrics) },
        idempotent: true,
      });
    },
    /** A participant's SWAG moments (safetensors keyed by tensor name) for the SWAG round; safe to retry. */
    uploadSwag: async (
      globalModelId: string,
      swag: TransferOptions & { round: number; sampleSize: number; first: FileContent; second: FileContent },
    ): Promise<void> => {
      const body = await multipartBody({
        fields: [
          ['round', swag.round],
          ['sample_size', swag.sampleSize],
        ],
        files: [
          { field: 'first_moment_file', content: swag.first },
          { field: 'second_moment_file', content: swag.second },
        ],
      });
      await this.http.json('POST', `/api/models/${enc(globalModelId)}/swag/`, {
        multipart: body,
        idempotent: true,
        ...transfer(swag),
      });
    },
    swagMoment: async (id: string, moment: 'first' | 'second'): Promise<Buffer> =>
      (await this.http.bytes('GET', `/api/models/${enc(id)}/swag/`, { query: { moment } })).bytes,
    preprocessing: async (id: string): Promise<Buffer> =>
      (await this.http.bytes('GET', `/api/models/${enc(id)}/preprocessing/`)).bytes,
    setPreprocessing: async (id: string, file: FileContent): Promise<void> => {
      await this.http.json('POST', `/api/models/${enc(id)}/preprocessing/`, {
        multipart: await multipartBody({ files: [{ field: 'model_preprocessing_file', content: file }] }),
      });
    },
  };

  // --- trainings ---------------------------------------------------------------------------------------------------

  readonly trainings = {
    list: (): Promise<Training[]> => this.http.json('GET', '/api/trainings/'),
    /** Creates a training of a model the caller owns (state INITIAL); answers its id. */
    create: async (training: NewTraining): Promise<string> =>
      (await this.http.json<z.output<typeof trainingCreatedResponse>>('POST', '/api/trainings/', { json: training }))
        .training_id,
    get: (id: string): Promise<TrainingStatus> => this.http.json('GET', `/api/trainings/${enc(id)}/`),
    start: (id: string): Promise<unknown> => this.http.json('POST', `/api/trainings/${enc(id)}/start/`),
    delete: (id: string): Promise<unknown> => this.http.json('DELETE', `/api/trainings/${enc(id)}/`),
    addClients: (id: string, clients: readonly string[]): Promise<unknown> =>
      this.http.json('PUT', `/api/trainings/${enc(id)}/clients/`, { json: { clients } }),
    removeClients: (id: string, clients: readonly string[]): Promise<unknown> =>
      this.http.json('DELETE', `/api/trainings/${enc(id)}/clients/`, { json: { clients } }),
    /** Joins a training of one of the caller's groups (from its next round). */
    join: (id: string): Promise<unknown> => this.http.json('POST', `/api/trainings/${enc(id)}/join/`),
    models: (id: string): Promise<Model[]> => this.http.json('GET', `/api/trainings/${enc(id)}/models/`),
    latestModels: (id: string): Promise<Model[]> => this.http.json('GET', `/api/trainings/${enc(id)}/models/latest/`),
    /** Every round, or a page: rounds `from` on (0 by default), at most `limit` of them (at most 1,000). */
    rounds: (id: string, page: { readonly from?: number; readonly limit?: number } = {}): Promise<Round[]> =>
      this.http.json('GET', `/api/trainings/${enc(id)}/rounds/`, { query: page }),
    round: (id: string, round: number): Promise<Round> =>
      this.http.json('GET', `/api/trainings/${enc(id)}/rounds/${round}/`),
    /** Declines the caller's task of `round` (the wait stops counting it); safe to retry. */
    decline: (id: string, round: number, message?: string): Promise<z.output<typeof declineResponse>> =>
      this.http.json('POST', `/api/trainings/${enc(id)}/rounds/${round}/decline/`, {
        json: message === undefined ? {} : { message },
        idempotent: true,
      }),
  };

  // --- tasks -------------------------------------------------------------------------------------------------------

  readonly tasks = {
    /** The caller's pending tasks and unacknowledged messages; with `wait`, held up to that many seconds until one. */
    list: (options: { wait?: number; signal?: AbortSignal } = {}): Promise<Task[]> =>
      this.http.json('GET', '/api/users/myself/tasks/', {
        query: { wait: options.wait },
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    /** Hides a message or a done task from `list`. */
    ack: (id: number): Promise<Task> =>
      this.http.json('POST', `/api/users/myself/tasks/${id}/ack/`, { idempotent: true }),
  };

  // --- datasets ----------------------------------------------------------------------------------------------------

  readonly datasets = {
    list: (): Promise<Dataset[]> => this.http.json('GET', '/api/datasets/'),
    get: (id: number): Promise<Dataset> => this.http.json('GET', `/api/datasets/${id}/`),
    delete: (id: number): Promise<unknown> => this.http.json('DELETE', `/api/datasets/${id}/`),
    points: (id: number, page: { offset?: number; limit?: number } = {}): Promise<DatasetPoints> =>
      this.http.json('GET', `/api/datasets/${id}/points/`, { query: page }),
    upload: async (dataset: NewDataset): Promise<Dataset> => {
      const files =
        'safetensors' in dataset.files
          ? [{ field: 'file', content: dataset.files.safetensors }]
          : [
              { field: 'x', content: dataset.files.x },
              { field: 'y', content: dataset.files.y },
            ];
      const fields: Array<[string, string | boolean]> = [
        ['name', dataset.name],
        ['description', dataset.description ?? ''],
        ['share_with_participants', dataset.shareWithParticipants ?? false],
      ];
      return await this.http.json('POST', '/api/datasets/', {
        multipart: await multipartBody({ fields, files }),
        ...transfer(dataset),
      });
    },
  };

  // --- groups ------------------------------------------------------------------------------------------------------

  readonly groups = {
    list: (): Promise<Group[]> => this.http.json('GET', '/api/groups/'),
    get: (id: number): Promise<Group> => this.http.json('GET', `/api/groups/${id}/`),
    create: (group: NewGroup): Promise<Group> => this.http.json('POST', '/api/groups/', { json: group }),
    update: (id: number, change: GroupChange): Promise<Group> =>
      this.http.json('PATCH', `/api/groups/${id}/`, { json: change }),
    delete: (id: number): Promise<unknown> => this.http.json('DELETE', `/api/groups/${id}/`),
    addMembers: (id: number, userIds: readonly string[]): Promise<Group> =>
      this.http.json('POST', `/api/groups/${id}/members/`, { json: { user_ids: userIds } }),
    removeMembers: (id: number, userIds: readonly string[]): Promise<Group> =>
      this.http.json('DELETE', `/api/groups/${id}/members/`, { json: { user_ids: userIds } }),
    join: (id: number): Promise<Group> => this.http.json('POST', `/api/groups/${id}/join/`),
    leave: (id: number): Promise<Group> => this.http.json('POST', `/api/groups/${id}/leave/`),
  };

  /** Creates the reference's demo data (a completed training with metrics) when the server allows it. */
  demoData(): Promise<Record<string, unknown>> {
    return this.http.json('GET', '/api/dummy/');
  }

  // --- inference ---------------------------------------------------------------------------------------------------

  /** Runs a model (ONNX) on an input, with the training's uncertainty method unless `options` names another. */
  infer(request: InferenceRequest): Promise<Record<string, unknown>> {
    return this.http.json('POST', '/api/inference/', {
      json: {
        model_id: request.modelId,
        model_input: request.input,
        return_format: 'json',
        ...(request.options === undefined ? {} : { options: request.options }),
      },
      idempotent: true,
    });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function transfer(options: TransferOptions): { onUploadProgress?: ProgressCallback; signal?: AbortSignal } {
  return {
    ...(options.onProgress ? { onUploadProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

/** `metric_names` and `metric_values` as repeated form fields, in the same order. */
function metricFields(metrics: Readonly<Record<string, MetricValue>> | undefined): Array<[string, string | number]> {
  const entries = Object.entries(metrics ?? {});
  return [
    ...entries.map(([name]): [string, string] => ['metric_names', name]),
    ...entries.map(([, value]): [string, string | number] => ['metric_values', value]),
  ];
}
