/** Gives back the slot `KeyedLimiter.acquire` handed out. */
export type Release = () => void;

interface KeyState {
  active: number;
  waiting: Array<(release: Release) => void>;
}

/**
 * At most `limit` holders per key at once; later callers wait in arrival order until a slot frees or their wait
 * ends. The API holds one slot per upload it hands to a training's workflow, so a burst of uploads reaches Temporal
 * a few at a time instead of all at once past its in-flight Update limit. Not p-limit: that has one queue for all
 * callers and cannot withdraw a single waiter whose wait ended (only clear the whole queue).
 */
export class KeyedLimiter {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    }
  }

  /** A slot for `key`, or null when none freed within `waitMs`. */
  acquire(key: string, waitMs: number): Promise<Release | null> {
    const state = this.keys.get(key) ?? { active: 0, waiting: [] };
    this.keys.set(key, state);
    if (state.active < this.limit) {
      state.active += 1;
      return Promise.resolve(this.releaser(key, state));
    }
    return new Promise((resolve) => {
      const grant = (release: Release): void => {
        clearTimeout(timer);
        resolve(release);
      };
      const timer = setTimeout(
        () => {
          state.waiting.splice(state.waiting.indexOf(grant), 1);
          this.forgetIfIdle(key, state);
          resolve(null);
        },
        Math.max(0, waitMs),
      );
      state.waiting.push(grant);
    });
  }

  /** Callers holding or waiting for a slot of `key` (for tests and metrics). */
  load(key: string): { active: number; waiting: number } {
    const state = this.keys.get(key);
    return { active: state?.active ?? 0, waiting: state?.waiting.length ?? 0 };
  }

  private releaser(key: string, state: KeyState): Release {
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      const next = state.waiting.shift();
      if (next) {
        // The slot passes straight to the next waiter: `active` stays the same.
        next(this.releaser(key, state));
        return;
      }
      state.active -= 1;
      this.forgetIfIdle(key, state);
    };
  }

  private forgetIfIdle(key: string, state: KeyState): void {
    if (state.active === 0 && state.waiting.length === 0) {
      this.keys.delete(key);
    }
  }
}
