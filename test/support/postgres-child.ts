// Run with tsx: an embedded Postgres in a process of its own, for tests that stop and restart a database.
// Prints "ready" once it accepts connections and stops it cleanly on SIGTERM.
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { createLogger } from '../../src/logger';

const [dataDir, port] = process.argv.slice(2);
if (!dataDir || !port) {
  throw new Error('usage: postgres-child <data dir> <port>');
}
void startEmbeddedPostgres({
  dataDir,
  port: Number(port),
  logger: createLogger('warn'),
  settings: { fsync: 'off' },
}).then((pg) => {
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void pg.stop().then(() => process.exit(0));
  });
});
