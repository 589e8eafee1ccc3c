import fs from 'node:fs';
import os from 'node:os';

/**
 * Lowers the calling thread's scheduling priority by `steps` nice values (up to 19; Linux, where a nice value
 * belongs to a thread, and the threads it starts later inherit it), so that it stays below the process's other
 * threads whatever the process's own nice value. Best effort: false where it cannot (another system, no `/proc`),
 * and the thread runs as before.
 */
export function lowerThreadPriority(steps: number): boolean {
  if (steps <= 0 || process.platform !== 'linux') {
    return false;
  }
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>": the thread's own id, which os.setPriority takes as a pid.
    const tid = Number(lastSegment(fs.readlinkSync('/proc/thread-self')));
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + steps));
    return true;
  } catch {
    return false;
  }
}

function lastSegment(link: string): string {
  return link.slice(link.lastIndexOf('/') + 1);
}
