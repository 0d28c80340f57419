/**
 * V8 flags a command sets while it runs (src/results/memory.ts), and their undoing. V8 stamps the
 * code cache it makes with a hash of the flags in force, and refuses a cache stamped with other
 * flags than its own. The launcher (src/launch.ts) makes its cache at the end of a run, and the
 * next run starts with Node's flags alone: a `query`, which had changed two, rewrote its 1.1 MB
 * cache at every run and never used it (60 ms of CPU a run). So the launcher puts every flag set
 * here back before it makes the cache.
 */
import v8 from 'node:v8';

/** Each flag set, with what puts it back (the default). */
const undo = new Map<string, string>();

/** Sets `flag` (`--name=value`, `--name`) for the rest of the run; `undoWith` puts it back. */
export function setV8Flag(flag: string, undoWith: string): void {
  v8.setFlagsFromString(flag);
  if (!undo.has(flag)) undo.set(flag, undoWith);
}

/** Puts back every flag setV8Flag set, the last set first. */
export function restoreV8Flags(): void {
  for (const undoWith of [...undo.values()].reverse()) v8.setFlagsFromString(undoWith);
  undo.clear();
}
