/** Command lines of the docs, split for runCli. */

/** Words of a command line as a POSIX shell splits them (single and double quotes, no expansion). */
export function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let any = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      any = true;
    } else if (ch === ' ') {
      if (any || cur !== '') out.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (any || cur !== '') out.push(cur);
  return out;
}
