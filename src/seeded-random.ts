/** Draws one standard normal value per call. */
export type NormalSource = () => number;

/**
 * A seeded source of uniform values in [0, 1) with 53 random bits (xoshiro128**, state seeded by splitmix32). Pure
 * integer arithmetic, so workflow code may use it: the same seed gives the same sequence on every machine and replay.
 */
export function seededUniform(seed: number): () => number {
  const next = xoshiro128(seed);
  return () => uniform53(next);
}

/**
 * A seeded standard normal source: `seededUniform` (so nearby seeds give unrelated streams) feeding the Box–Muller
 * transform, both values of each pair used. The same seed always gives the same sequence, on any machine (integer
 * arithmetic, then one log/sqrt/cos/sin per pair).
 */
export function seededNormal(seed: number): NormalSource {
  const uniform = seededUniform(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    // u1 in (0, 1] so the log is finite; u2 in [0, 1).
    const u1 = 1 - uniform();
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}

/** A uniform value in [0, 1) with 53 random bits, from two 32-bit draws. */
function uniform53(next: () => number): number {
  return ((next() >>> 5) * 2 ** 26 + (next() >>> 6)) / 2 ** 53;
}

/** xoshiro128** (Blackman and Vigna): 32-bit outputs, period 2^128 − 1. */
function xoshiro128(seed: number): () => number {
  const init = splitmix32(seed >>> 0);
  const s = Uint32Array.of(init(), init(), init(), init());
  return () => {
    const s0 = s[0] ?? 0;
    const s1 = s[1] ?? 0;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s[2] = (s[2] ?? 0) ^ s0;
    s[3] = (s[3] ?? 0) ^ s1;
    s[1] = s1 ^ (s[2] ?? 0);
    s[0] = s0 ^ (s[3] ?? 0);
    s[2] = (s[2] ?? 0) ^ t;
    s[3] = rotl(s[3] ?? 0, 11);
    return result;
  };
}

/** A splitmix-style generator (golden-ratio increment, murmur3 finalizer): spreads a seed into state words. */
function splitmix32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
