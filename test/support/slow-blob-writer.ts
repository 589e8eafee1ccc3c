// Run with tsx by the blob store test: writes a blob from a slow stream, printing "progress" after each chunk,
// so the test can kill this process in the middle of a write.
import { blobStoreAt } from '../../src/storage/open-blob-store';

async function* slowChunks(): AsyncIterable<Uint8Array> {
  for (let i = 0; i < 1000; i += 1) {
    yield Buffer.alloc(1024 * 1024, i % 251);
    process.stdout.write('progress\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const url = process.argv[2];
if (!url) {
  throw new Error('usage: slow-blob-writer <blob store URL>');
}
void blobStoreAt(url)
  .put(slowChunks())
  .then((ref) => process.stdout.write(`done ${ref.digest}\n`));
