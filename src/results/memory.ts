/**
 * Flat memory for long result runs (issue 19.3). What grew in a long `export` was not data osfleet
 * holds (the live heap stays ~10 MiB) but V8's young generation: V8 doubles it each time the bytes
 * surviving scavenges since the last growth exceed its size, so in a long enough run it always
 * reaches its maximum (64 MiB semi-spaces in Node 24: 128 MiB of new space), whatever the run holds.
 * `--max-semi-space-size` would bound it but is read only when the heap is made (at start-up, which
 * would mean re-executing node); the growth factor is read at each growth, so the pipeline stops
 * the growth from inside once the new space has reached a size that keeps scavenges cheap.
 *
 * With a small young generation, a big answer's line (a 1,000-row line is ~270 KB, a string in V8's
 * large-object space) that is alive when a scavenge runs, during its own JSON.parse, is promoted
 * straight to the old generation, where it waits for a full collection; V8 lets tens of MiB of
 * them pile up before it runs one. So the old generation gets a budget too: past it, one full
 * collection (~10 ms for the ~10 MiB a run really holds), and the budget starts again from what
 * survived.
 */
import v8 from 'node:v8';
import { setV8Flag } from '../v8-flags.js';
import { runInNewContext } from 'node:vm';

/** Pieces an input file is read in: each is garbage once its lines are cut, and a small one dies young. */
export const INPUT_CHUNK_BYTES = 1 << 16;

/** The young generation (both semi-spaces) is held at this size: ~4× the garbage of one 1,000-row answer. */
export const YOUNG_GENERATION_BYTES = 8 << 20;

/** Old generation (old and large-object spaces) allowed above what survived the last full collection. */
export const OLD_GENERATION_SLACK_BYTES = 4 << 20;

let pinned = false;

/**
 * Stops the young generation's growth once it reaches YOUNG_GENERATION_BYTES (or at once when it
 * is already larger); call it as data flows (it is cheap, and does nothing once done). Returns
 * whether the growth is stopped. Node's own flags (`--max-semi-space-size`) still win when given.
 */
export function boundYoungGeneration(limit = YOUNG_GENERATION_BYTES): boolean {
  if (pinned) return true;
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (!young || young.space_size < limit) return false;
  // A factor of 1 makes "grow" a no-op; V8 may still shrink the space when allocation slows.
  // V8's default factor is 2 (put back at the end of the run: src/v8-flags.ts).
  setV8Flag('--semi-space-growth-factor=1', '--semi-space-growth-factor=2');
  pinned = true;
  return true;
}

/** Whether boundYoungGeneration has stopped the growth (tests). */
export function youngGenerationBounded(): boolean {
  return pinned;
}

let collect: (() => void) | undefined;
/** Old generation size above which the next full collection runs (0: not measured yet). */
let oldLimit = 0;

/**
 * What a full collection can free and V8 lets pile up: the old and large-object spaces, and with
 * `external` the memory outside V8's heap that its objects hold. Node keeps a string of more than
 * ~1 MB (a page of 500 hosts) as an external string, its bytes outside every space; V8 let tens of
 * them pile up in a `get hosts` of 50,000 hosts (33 MB external at the peak, against 14 MB for
 * 5,000). Not counted by default: `export`'s lines are smaller, and counting there (its input's
 * chunks too) brought more full collections and no lower peak (bench/README.md).
 */
function oldGeneration(external: boolean): number {
  let n = external ? v8.getHeapStatistics().external_memory : 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'old_space' || s.space_name === 'large_object_space') n += s.space_size;
  return n;
}

/**
 * Keeps a long run's heap within fixed bounds: the young generation pinned (boundYoungGeneration),
 * and a full collection whenever the old generation has grown OLD_GENERATION_SLACK_BYTES past what
 * the previous one left. Cheap enough to call every thousand rows. Returns whether it collected.
 */
export function boundHeap({ slack = OLD_GENERATION_SLACK_BYTES, external = false }: { slack?: number; external?: boolean } = {}): boolean {
  boundYoungGeneration();
  const old = oldGeneration(external);
  if (oldLimit === 0) oldLimit = old + slack;
  if (old < oldLimit) return false;
  // The collector as Jest's leak detector reaches it: exposed, then taken from a fresh context.
  if (!collect) {
    setV8Flag('--expose-gc', '--no-expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  oldLimit = oldGeneration(external) + slack;
  return true;
}
