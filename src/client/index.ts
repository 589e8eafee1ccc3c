/**
 * The Roundhouse client SDK (`roundhouse/client`): the API as typed methods, the retry rules, a push receiver that
 * checks signatures, task pulling, and an FL client loop to plug a training function into. It runs in Node.js 20.
 */
export { RoundhouseClient } from './client';
export type {
  ClientOptions,
  Dataset,
  DatasetPoints,
  Group,
  GroupChange,
  InferenceRequest,
  MetricValue,
  Metric,
  Model,
  ModelMetadata,
  ModelRound,
  NewDataset,
  NewGroup,
  NewModel,
  NewTraining,
  NewUpdate,
  NewUser,
  Round,
  Task,
  Training,
  TrainingStatus,
  TransferOptions,
  User,
} from './client';
export { RoundhouseApiError, RoundhouseConnectionError, isApiError } from './errors';
export { authorization, DEFAULT_RETRY, HttpClient } from './http';
export type { Credentials, Fetch, HttpOptions, ProgressCallback, RetryPolicy } from './http';
export type { FileContent } from './multipart';
export { PushReceiver } from './receiver';
export type { PushedNotification, ReceiverOptions } from './receiver';
export { runFlClient } from './fl-client';
export type { FlClientEvent, FlClientOptions, FlTask, TrainResult } from './fl-client';
