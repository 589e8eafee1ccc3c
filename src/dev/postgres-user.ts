import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The system user an embedded Postgres runs as when started by root (Postgres refuses to run as root). */
export const POSTGRES_USER = 'postgres';

/** A system user's ids. */
export interface UserIds {
  readonly uid: number;
  readonly gid: number;
}

/** The uid and gid of a system user from /etc/passwd; undefined when there is no such user. */
export async function systemUser(name: string): Promise<UserIds | undefined> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8').catch(() => '');
  const fields = passwd
    .split('\n')
    .find((line) => line.startsWith(`${name}:`))
    ?.split(':');
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

/** The `postgres` system user, created (with its own group, no home folder) when the machine has none. */
export async function ensurePostgresUser(): Promise<UserIds> {
  const existing = await systemUser(POSTGRES_USER);
  if (existing) {
    return existing;
  }
  await run('useradd', ['--system', '--user-group', '--no-create-home', POSTGRES_USER]);
  const created = await systemUser(POSTGRES_USER);
  if (!created) {
    throw new Error(`useradd did not create the ${POSTGRES_USER} user`);
  }
  return created;
}

/** `target` and every folder above it, from the root down. */
function ancestors(target: string): string[] {
  const out: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    out.unshift(dir);
    if (path.dirname(dir) === dir) {
      return out;
    }
  }
}

function mayEnter(stat: { mode: number; uid: number; gid: number }, ids: UserIds): boolean {
  if (stat.uid === ids.uid) {
    return (stat.mode & 0o100) !== 0;
  }
  if (stat.gid === ids.gid) {
    return (stat.mode & 0o010) !== 0;
  }
  return (stat.mode & 0o001) !== 0;
}

/** The first existing folder on the way to `target` (itself included) that `ids` may not enter, with its mode. */
export async function firstUnreachable(
  target: string,
  ids: UserIds,
): Promise<{ folder: string; mode: string } | undefined> {
  for (const folder of ancestors(target)) {
    const stat = await fs.stat(folder).catch(() => undefined);
    if (stat?.isDirectory() && !mayEnter(stat, ids)) {
      return { folder, mode: (stat.mode & 0o777).toString(8).padStart(4, '0') };
    }
  }
  return undefined;
}
