import type { TensorManifestEntry, TorchArchiveKind } from '../torch/manifest';
import type { TensorInfo } from './manifest';
import type { StructureEntry } from './structure';

/** How the template stores one initializer: what the writer needs to keep every length prefix right. */
export interface InitializerLayout {
  /** Bytes of the TensorProto. */
  readonly payloadLength: number;
  /** Bytes of its value fields (raw_data or typed), tags included. */
  readonly valueFieldsLength: number;
  readonly hasRawData: boolean;
  /** SHA-256 (hex) of a non-float initializer's canonical value bytes: updates must match it byte for byte. */
  readonly valueDigest?: string;
}

/**
 * What one pass over a model learns: its manifest, its graph digest and the structure both come from. Plain data
 * (JSON-serializable), so it can be kept beside the model's blob and passed to activities.
 */
export interface ModelSummary {
  /** Initializers in graph order: (name, dtype, shape). */
  readonly manifest: readonly TensorInfo[];
  /** SHA-256 (hex) of the model without initializer values and documentation fields; equal graphs, equal digest. */
  readonly graphDigest: string;
  readonly structure: readonly StructureEntry[];
  /** Parallel to `manifest`. */
  readonly layout: readonly InitializerLayout[];
  readonly byteLength: number;
  /** Set for a PyTorch archive (then `structure` and `layout` are empty): what an update must repeat exactly. */
  readonly torch?: TorchLayout;
}

/** A PyTorch archive's kind and tensors (where each one's elements are in which storage), in `data.pkl` order. */
export interface TorchLayout {
  readonly kind: TorchArchiveKind;
  readonly tensors: readonly TensorManifestEntry[];
}
