/**
 * Rows of hosts a campaign did not target, in `export --from-manifest` (outside the hosts of the
 * manifest) are not its results: they are dropped and counted here, for one warning line and the
 * manifest's `outside_targets`. (`query` judges live answers with `TargetCheck`, untargeted.ts.)
 */
import { printable } from '../terminal.js';

/** Hosts named in the warning line; the rest are counted. */
const NAMED = 5;

export class OutsideTargets {
  private readonly rowsOf = new Map<string, number>();

  /** Counts `rows` dropped rows of `host`. */
  add(host: string, rows: number): void {
    this.rowsOf.set(host, (this.rowsOf.get(host) ?? 0) + rows);
  }

  /** How many hosts had rows dropped. */
  get size(): number {
    return this.rowsOf.size;
  }

  /** Each host and its dropped rows, sorted by host (the manifest's `outside_targets`). */
  entries(): Array<{ host: string; rows: number }> {
    return [...this.rowsOf].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([host, rows]) => ({ host, rows }));
  }

  /**
   * "2 rows of 1 host {what} dropped (h1: 2)", up to five hosts named (escaped for the terminal);
   * undefined when nothing was dropped.
   */
  line(what: string): string | undefined {
    if (this.rowsOf.size === 0) return undefined;
    const rows = [...this.rowsOf.values()].reduce((a, b) => a + b, 0);
    const hosts = this.rowsOf.size;
    const per = this.entries()
      .slice(0, NAMED)
      .map((o) => `${printable(o.host)}: ${o.rows}`)
      .join(', ');
    const more = hosts > NAMED ? ` and ${hosts - NAMED} more` : '';
    return `${rows} row${rows === 1 ? '' : 's'} of ${hosts} host${hosts === 1 ? '' : 's'} ${what} dropped (${per}${more})`;
  }
}
