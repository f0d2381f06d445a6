/**
 * mulberry32, a small 32-bit generator: good enough to spread choices, and the same sequence for a seed.
 * For repeatable choices (benchmarks, fuzzing, generative scenarios' placeholders), never for secrets.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
