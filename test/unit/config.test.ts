import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      return err.problems;
    }
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('when nothing is set, runs everything embedded on the defaults', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8000 });
    expect(config.db.url).toBeUndefined();
    expect(config.db.embedded).toEqual({
      port: 54329,
      dataDir: path.resolve('.roundhouse', 'postgres'),
      home: '/var/lib/roundhouse',
    });
    expect(config.temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'roundhouse-training',
      searchAttributes: {
        TrainingState: 'Keyword',
        TrainingRound: 'Int',
        TrainingActor: 'Keyword',
        AggregationMethod: 'Keyword',
      },
    });
    expect(config.temporal.devServer).toMatchObject({ port: 7233, uiPort: 8233 });
    expect(config.temporal.devServer?.dbPath).toBe(path.resolve('.roundhouse', 'temporal.sqlite'));
    expect(config.blobs.url).toBe(pathToFileURL(path.resolve('.roundhouse', 'blobs')).href);
    expect(Object.isFrozen(config.temporal)).toBe(true);
  });

  it('when DATABASE_URL and TEMPORAL_ADDRESS are set, uses them and starts nothing embedded', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db.internal:5432/fl',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TASK_QUEUE: 'fl-prod',
    });
    expect(config.db).toMatchObject({ url: 'postgres://u:p@db.internal:5432/fl', embedded: undefined });
    expect(config.temporal).toMatchObject({
      address: 'temporal.internal:7233',
      taskQueue: 'fl-prod',
      aggregationTaskQueue: 'fl-prod-aggregation',
      devServer: undefined,
    });
    expect(config.worker).toEqual({ queues: ['training', 'aggregation'], aggregationConcurrency: 1 });
  });

  it('when the worker variables name the queues and the concurrency, uses them; anything else is refused', () => {
    const config = loadConfig({
      TEMPORAL_AGGREGATION_TASK_QUEUE: 'fl-heavy',
      ROUNDHOUSE_WORKER_QUEUES: 'aggregation',
      ROUNDHOUSE_AGGREGATION_CONCURRENCY: '2',
    });
    expect(config.temporal.aggregationTaskQueue).toBe('fl-heavy');
    expect(config.worker).toEqual({ queues: ['aggregation'], aggregationConcurrency: 2 });
    expect(() => loadConfig({ ROUNDHOUSE_WORKER_QUEUES: 'training,notifications' })).toThrow(
      /ROUNDHOUSE_WORKER_QUEUES.*training, aggregation or training,aggregation/,
    );
    expect(() => loadConfig({ ROUNDHOUSE_AGGREGATION_CONCURRENCY: '0' })).toThrow(/ROUNDHOUSE_AGGREGATION_CONCURRENCY/);
  });

  it('when ROUNDHOUSE_BLOB_URL names a folder or a bucket, the store is that; anything else is refused', () => {
    expect(loadConfig({ ROUNDHOUSE_BLOB_DIR: '/srv/blobs' }).blobs.url).toBe('file:///srv/blobs');
    const bucket = loadConfig({ ROUNDHOUSE_BLOB_URL: 's3://fl-models/prod/blobs', ROUNDHOUSE_S3_PATH_STYLE: 'true' });
    expect(bucket.blobs).toMatchObject({ url: 's3://fl-models/prod/blobs', s3PathStyle: true });
    expect(loadConfig({ ROUNDHOUSE_BLOB_URL: 'file:///data/blobs' }).blobs.s3PathStyle).toBeUndefined();
    expect(() => loadConfig({ ROUNDHOUSE_BLOB_URL: 'https://bucket.example/x' })).toThrow(
      /ROUNDHOUSE_BLOB_URL.*file:\/\/\/folder or s3:\/\/bucket\/prefix/,
    );
    expect(() => loadConfig({ ROUNDHOUSE_BLOB_URL: 's3://B/x' })).toThrow(/ROUNDHOUSE_BLOB_URL/);
    expect(() => loadConfig({ ROUNDHOUSE_BLOB_URL: 's3://fl-models/x', ROUNDHOUSE_BLOB_DIR: '/srv' })).toThrow(
      /either ROUNDHOUSE_BLOB_URL or ROUNDHOUSE_BLOB_DIR/,
    );
  });

  it('when ROUNDHOUSE_INFERENCE_NICE is unset, inference runs at nice 10; 0 to 19 are taken; anything else is refused', () => {
    expect(loadConfig({}).inference.nice).toBe(10);
    expect(loadConfig({ ROUNDHOUSE_INFERENCE_NICE: '0' }).inference.nice).toBe(0);
    expect(loadConfig({ ROUNDHOUSE_INFERENCE_NICE: '19' }).inference.nice).toBe(19);
    expect(() => loadConfig({ ROUNDHOUSE_INFERENCE_NICE: '20' })).toThrow(/ROUNDHOUSE_INFERENCE_NICE/);
    expect(() => loadConfig({ ROUNDHOUSE_INFERENCE_NICE: '-5' })).toThrow(/ROUNDHOUSE_INFERENCE_NICE/);
  });

  it('when ROUNDHOUSE_DEMO_DATA is unset, the demo data route is off; true turns it on; anything else is refused', () => {
    expect(loadConfig({}).demoData).toBe(false);
    expect(loadConfig({ ROUNDHOUSE_DEMO_DATA: 'false' }).demoData).toBe(false);
    expect(loadConfig({ ROUNDHOUSE_DEMO_DATA: 'true' }).demoData).toBe(true);
    expect(problemsOf({ ROUNDHOUSE_DEMO_DATA: 'yes' })).toEqual([expect.stringContaining('env ROUNDHOUSE_DEMO_DATA')]);
  });

  it("when the dashboard variables are unset, serves dist/ui and links the dev server's Web UI; set, uses them", () => {
    expect(loadConfig({}).dashboard).toEqual({
      assetsDir: path.resolve(__dirname, '../../dist/ui'),
      temporalUiUrl: 'http://127.0.0.1:8233',
    });
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }).dashboard.temporalUiUrl).toBeUndefined();
    expect(
      loadConfig({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        ROUNDHOUSE_TEMPORAL_UI_URL: 'https://temporal.example.org/',
        ROUNDHOUSE_UI_DIR: 'build/ui',
      }).dashboard,
    ).toEqual({ assetsDir: path.resolve('build/ui'), temporalUiUrl: 'https://temporal.example.org' });
    expect(problemsOf({ ROUNDHOUSE_TEMPORAL_UI_URL: 'javascript:alert(1)' })).toEqual([
      expect.stringContaining('env ROUNDHOUSE_TEMPORAL_UI_URL'),
    ]);
  });

  it('when the session and login variables are unset, uses the defaults; set, uses them; zero is refused', () => {
    expect(loadConfig({}).auth).toEqual({
      sessionIdleSeconds: 28_800,
      sessionMaxAgeSeconds: 604_800,
      failuresPerUsername: 5,
      failuresPerAddress: 20,
      failureWindowSeconds: 900,
    });
    expect(
      loadConfig({
        ROUNDHOUSE_SESSION_IDLE_SECONDS: '600',
        ROUNDHOUSE_SESSION_MAX_AGE_SECONDS: '3600',
        ROUNDHOUSE_LOGIN_FAILURES_PER_USERNAME: '3',
        ROUNDHOUSE_LOGIN_FAILURES_PER_ADDRESS: '10',
        ROUNDHOUSE_LOGIN_FAILURE_WINDOW_SECONDS: '300',
      }).auth,
    ).toEqual({
      sessionIdleSeconds: 600,
      sessionMaxAgeSeconds: 3600,
      failuresPerUsername: 3,
      failuresPerAddress: 10,
      failureWindowSeconds: 300,
    });
    expect(problemsOf({ ROUNDHOUSE_SESSION_IDLE_SECONDS: '0', ROUNDHOUSE_LOGIN_FAILURES_PER_USERNAME: '0' })).toEqual([
      expect.stringContaining('env ROUNDHOUSE_SESSION_IDLE_SECONDS'),
      expect.stringContaining('env ROUNDHOUSE_LOGIN_FAILURES_PER_USERNAME'),
    ]);
  });

  it('when several variables are wrong, reports every problem at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://localhost/db',
      TEMPORAL_ADDRESS: 'no-port',
      LOG_LEVEL: 'loud',
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toEqual(expect.stringContaining('env PORT'));
    expect(problems.join('\n')).toEqual(expect.stringContaining('env DATABASE_URL'));
    expect(problems.join('\n')).toEqual(expect.stringContaining('env TEMPORAL_ADDRESS'));
    expect(problems.join('\n')).toEqual(expect.stringContaining('env LOG_LEVEL'));
  });

  it('when temporal.yaml is invalid, names the file and each field alongside the environment problems', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roundhouse-config-'));
    const file = path.join(dir, 'temporal.yaml');
    fs.writeFileSync(
      file,
      [
        'address: 127.0.0.1:7233',
        'namespace: default',
        'taskQueue: q',
        'devServer: { ip: 127.0.0.1, port: 70000, uiPort: 8233, dbFile: t.db, logLevel: warn }',
        'searchAttributes: { TrainingRound: Integer }',
        'dynamicConfig: {}',
        'surprise: true',
      ].join('\n'),
    );
    const problems = problemsOf({ ROUNDHOUSE_TEMPORAL_CONFIG: file, PORT: '-1' });
    fs.rmSync(dir, { recursive: true });
    expect(problems).toHaveLength(4);
    expect(problems.filter((p) => p.startsWith(file))).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/devServer\.port/);
    expect(problems.join('\n')).toMatch(/searchAttributes\.TrainingRound/);
    expect(problems.join('\n')).toMatch(/surprise/);
  });

  it('when temporal.yaml is missing, says so', () => {
    expect(problemsOf({ ROUNDHOUSE_TEMPORAL_CONFIG: '/nonexistent/temporal.yaml' })).toEqual([
      expect.stringContaining('/nonexistent/temporal.yaml'),
    ]);
  });
});
