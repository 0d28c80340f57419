/**
 * The `rootca` file: read once, and when it is unusable the message names the file and what is wrong
 * with it (missing, unreadable, a folder, not PEM, PEM without a certificate, a certificate that does
 * not parse), instead of a TLS failure later that blames the server.
 */
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { printable } from './errors.js';

/** A CA bundle is a few hundred KiB at most (the whole Mozilla bundle is ~220 KiB). */
const MAX_CA_BYTES = 4 * 1024 * 1024;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export async function readRootCa(file: string): Promise<string> {
  const shown = printable(file);
  const fail = (what: string, hint?: string) => new ConfigError(`the rootca file ${shown} ${what}`, { hint: hint ?? 'point rootca at a PEM file of CA certificates: osfleet config set --rootca /path/to/ca.pem' });
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail('does not exist');
    if (code === 'EACCES' || code === 'EPERM') throw fail('is not readable (permission denied)', `check its permissions: ls -l '${file}'`);
    if (code === 'EISDIR') throw fail('is a folder, not a file');
    if (code === 'ENOTDIR') throw fail('does not exist (a part of its path is not a folder)');
    throw fail(`cannot be read: ${(err as Error).message}`);
  }
  if (bytes.length > MAX_CA_BYTES) throw fail(`is larger than ${MAX_CA_BYTES / (1024 * 1024)} MiB: not a CA bundle`);
  const text = bytes.toString('utf8');
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length === 0) {
    const der = bytes[0] === 0x30;
    throw fail(
      der ? 'is not PEM (it looks like binary DER)' : 'is not PEM (no -----BEGIN CERTIFICATE----- line)',
      der ? `convert it: openssl x509 -inform der -in '${file}' -out ca.pem` : undefined,
    );
  }
  const certs = blocks.filter((b) => b[1] === 'CERTIFICATE');
  if (certs.length === 0) {
    const kinds = [...new Set(blocks.map((b) => b[1]!.toLowerCase()))].join(', ');
    throw fail(`is PEM but holds no certificate (only: ${kinds})`);
  }
  for (const [i, c] of certs.entries()) {
    try {
      new X509Certificate(c[0]);
    } catch (err) {
      throw fail(`holds a certificate that does not parse (certificate ${i + 1} of ${certs.length}: ${(err as Error).message})`);
    }
  }
  return text;
}
