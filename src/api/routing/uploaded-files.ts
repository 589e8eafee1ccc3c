import type { File } from 'formidable';

/** A file part of a multipart request, as formidable wrote it to a temporary file. */
export interface UploadedFile {
  readonly field: string;
  readonly path: string;
  readonly size: number;
  readonly filename: string | null;
}

/** The file parts of a request by field name; a field sent twice keeps both. */
export type UploadedFiles = ReadonlyMap<string, readonly UploadedFile[]>;

/** Collects koa-body's files object (one file or an array per field). */
export function collectFiles(files: Record<string, File | File[]> | undefined): Map<string, UploadedFile[]> {
  const out = new Map<string, UploadedFile[]>();
  for (const [field, value] of Object.entries(files ?? {})) {
    const list = Array.isArray(value) ? value : [value];
    out.set(
      field,
      list.map((file) => ({ field, path: file.filepath, size: file.size, filename: file.originalFilename })),
    );
  }
  return out;
}
