/**
 * Text drawn for a person (tables, long form, errors, progress, lint messages) shown safely: C0 and
 * C1 control characters, DEL and the bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its
 * kin, which reorder what follows on screen) become visible escapes such as \x1b and \u202e. An ESC
 * from a host name could otherwise retitle the window or clear the screen, and an override could make
 * `gnp.exe` read as `exe.png`. Machine formats (JSON, NDJSON, CSV, YAML) keep the data exact.
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Escapes control and bidi characters; keeps line feeds and tabs (multi-line messages). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** One cell or one line: line breaks and tabs become spaces, every other unsafe character escaped. */
export function terminalCell(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(UNSAFE_ALL, escape);
}

/** Longest server-supplied text shown in one error line. */
const MAX_SHOWN = 300;

/**
 * Server-supplied text made safe for a terminal line: control characters (an ESC could rewrite the
 * screen or the window title), DEL, C1 controls and bidirectional overrides are shown escaped, and
 * the length is capped, so a broken or hostile server cannot forge or flood what the user reads.
 */
export function printable(text: string, max = MAX_SHOWN): string {
  const safe = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === '\n' || c === '\t' || c === '\r' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
