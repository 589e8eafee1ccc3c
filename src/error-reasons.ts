/**
 * The second level of the error model (the first is `ErrorCode` in src/errors.ts). An HTTP error body's `code` says
 * what kind of failure it is (`invalid_input`, `not_found`, `conflict`, ...); where one code covers several causes,
 * `details.reason` names the cause with one of the values below, so a client can branch on it without parsing the
 * message. The same strings are the `ApplicationFailure.type` of the workflow's and the activities' failures, so a
 * cause keeps its name from the activity that found it to the HTTP answer (src/api/workflow-failures.ts maps them).
 * Every vocabulary lives here, and this module imports nothing, so the workflow sandbox may use it too.
 */

/** Why the training workflow refuses an upload, or why a training ends in ERROR (`ApplicationFailure.type`). */
export const TrainingErrorCode = {
  WRONG_ROUND: 'wrong_round',
  WRONG_PHASE: 'wrong_phase',
  /** The run has not loaded its settings yet: the upload may come again in a moment. */
  STARTING: 'starting',
  NOT_PARTICIPANT: 'not_participant',
  SLOT_FILLED: 'slot_filled',
  /** The client declined the wait this upload is for: it sends nothing more for it. */
  DECLINED: 'declined',
  INVALID_UPLOAD: 'invalid_upload',
  BELOW_QUORUM: 'below_quorum',
  NO_PARTICIPANTS: 'no_participants',
} as const;

/** `ApplicationFailure.type` codes the training activities fail with, besides the aggregation engine's own. */
export const TrainingActivityErrorCode = {
  TRAINING_NOT_FOUND: 'training_not_found',
  MODEL_VERSION_NOT_FOUND: 'model_version_not_found',
  UPLOAD_NOT_FOUND: 'upload_not_found',
  BLOB_NOT_FOUND: 'blob_not_found',
} as const;

/** Stable codes of everything the aggregation engine refuses; the API and workflow map them to 4xx answers. */
export type AggregationErrorCode =
  | 'model_truncated'
  | 'model_malformed'
  | 'model_external_data'
  | 'model_non_finite'
  | 'model_graph_mismatch'
  | 'model_manifest_mismatch'
  | 'model_initializer_mismatch'
  | 'model_values_invalid'
  | 'safetensors_malformed'
  | 'aggregation_no_updates'
  | 'aggregation_duplicate_client'
  | 'aggregation_invalid_sample_size'
  | 'aggregation_unknown_method'
  | 'aggregation_unknown_parameter'
  | 'aggregation_invalid_parameter'
  | 'strategy_state_invalid'
  /** A PyTorch archive the reader refuses (src/torch/). */
  | TorchErrorCode;

/**
 * Stable codes of everything the PyTorch archive reader refuses (src/torch/); each names what is wrong with the
 * file, and the message says how to save it instead.
 */
export type TorchErrorCode =
  /** Neither a zip archive nor PyTorch's legacy format. */
  | 'torch_not_zip'
  /** PyTorch's pre-1.6 non-zip `torch.save` format, read only by unpickling. */
  | 'torch_legacy_format'
  /** The zip ends before a structure it announces (its directory, a header, an entry's data). */
  | 'torch_zip_truncated'
  /** The zip's structures contradict each other or themselves. */
  | 'torch_zip_malformed'
  /** A zip feature the reader does not read: encryption, several disks, a compression method it needs to avoid. */
  | 'torch_zip_unsupported'
  /** An entry whose bytes do not match the CRC-32 the zip directory gives. */
  | 'torch_zip_crc_mismatch'
  /** The archive lacks an entry PyTorch writes (`data.pkl`, a storage), or has entries outside its one folder. */
  | 'torch_archive_layout'
  /** `data.pkl` names a global outside the allow-list (such as `posix.system`). */
  | 'torch_pickle_global'
  /** `data.pkl` pickles a whole `nn.Module`: it names the module's Python class. */
  | 'torch_whole_module'
  /** `data.pkl` uses an opcode the scanner does not accept (`INST`, `OBJ`, `EXT1/2/4`, or any unknown one). */
  | 'torch_pickle_opcode'
  /** A persistent id other than `('storage', <storage type>, <key>, <location>, <numel>)`. */
  | 'torch_pickle_persistent_id'
  /** `data.pkl` is not a well-formed pickle, or uses an allowed global in a way PyTorch never writes. */
  | 'torch_pickle_malformed'
  /** `data.pkl` exceeds a bound (memo, stack, string length, tensor count, nesting) that keeps the scan small. */
  | 'torch_pickle_limit'
  /** A tensor whose storage, dtype or extent does not fit the archive. */
  | 'torch_tensor_invalid';

/** Why a PyTorch model was refused where only ONNX runs (inference, evaluation, preprocessing). */
export type ModelFormatReason = 'onnx_required';

/** Why a model input was refused; sent as `details.reason` beside the message so clients can branch on it. */
export type InputErrorReason =
  | 'missing'
  | 'not_rectangular'
  | 'not_numeric'
  | 'empty'
  | 'too_large'
  | 'bad_rank'
  | 'bad_json'
  | 'bad_base64'
  | 'byte_count'
  | 'shape_required'
  | 'bad_shape'
  | 'unknown_format'
  | 'npy_malformed'
  | 'npy_dtype'
  | 'safetensors_malformed'
  | 'image_corrupt'
  | 'shape_mismatch';

/** Why a dataset upload was refused; sent as `details.reason` beside the message. */
export type DatasetErrorReason =
  /** Not the one safetensors file or the two .npy files, or an unknown file field. */
  | 'dataset_files'
  /** A file that does not parse, or a safetensors file without `x` and `y` or with other tensors. */
  | 'dataset_malformed'
  | 'dataset_dtype'
  | 'dataset_shape'
  /** `x` and `y` with different numbers of rows, or none. */
  | 'dataset_rows'
  | 'dataset_not_finite';

/** Error codes a pool worker answers with; each is the caller's mistake, so the API answers 400. */
export const InferenceErrorCode = {
  /** The input does not fit the model (rank, shape, type), as onnxruntime reports it. */
  INVALID_INPUT: 'inference_invalid_input',
  /** MC dropout on a model without Dropout nodes. */
  NO_DROPOUT: 'inference_no_dropout',
  /** The model (or a variant of it) could not be loaded, e.g. SWAG moments that do not fit it. */
  INVALID_MODEL: 'inference_invalid_model',
} as const;
export type InferenceErrorCode = (typeof InferenceErrorCode)[keyof typeof InferenceErrorCode];

type ValueOf<T> = T[keyof T];

/** Every `details.reason` and `ApplicationFailure.type` Roundhouse uses. */
export type ErrorReason =
  | ValueOf<typeof TrainingErrorCode>
  | ValueOf<typeof TrainingActivityErrorCode>
  | AggregationErrorCode
  | TorchErrorCode
  | ModelFormatReason
  | InputErrorReason
  | DatasetErrorReason
  | InferenceErrorCode;
