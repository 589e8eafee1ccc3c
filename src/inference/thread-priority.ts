import fs from 'node:fs';
import os from 'node:os';

/**
 * Lowers the calling thread's scheduling priority to `nice` (0 to 19; Linux, where a nice value belongs to a
 * thread, and the threads it starts later inherit it). Best effort: false where it cannot (another system, no
 * `/proc`), and the thread runs as before.
 */
export function lowerThreadPriority(nice: number): boolean {
  if (nice <= 0 || process.platform !== 'linux') {
    return false;
  }
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>": the thread's own id, which os.setPriority takes as a pid.
    const tid = Number(path(fs.readlinkSync('/proc/thread-self')));
    os.setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

function path(link: string): string {
  return link.slice(link.lastIndexOf('/') + 1);
}
