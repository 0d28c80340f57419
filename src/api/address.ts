/**
 * A server address as users give it (`config set --address`, `setup --address`, FLEET_URL),
 * checked before anything is sent. Apart from the client (src/api/client.ts) so that the commands
 * that only check an address (`config`, `setup`'s first step) do not load the HTTP client: undici
 * and Node's net/tls/http2 cost ~60 ms of CPU at start.
 */
import { isIPv4 } from 'node:net';
import { ConfigError } from '../errors.js';

/**
 * Loopback as the address parses, never by name prefix: `localhost`, an IPv4 literal in 127.0.0.0/8
 * (the URL parser has already turned `0x7f.1` or `2130706433` into dotted form) or `::1`.
 * `127.attacker.example.com` is a DNS name like any other.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === 'localhost') return true;
  if (h === '[::1]' || h === '::1') return true;
  return isIPv4(h) && h.split('.')[0] === '127';
}

/** Checks an address the way users need: a URL, http(s), http only on loopback unless allowed. */
export function checkAddress(address: string, opts: { allowInsecureHttp: boolean }): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ConfigError(`"${address.replace(/\/\/[^/@]*@/, '//…@')}" is not a valid URL`, { hint: 'use the form https://fleet.example.com:8080' });
  }
  // Credentials in the URL are never sent (the origin drops them) but would be printed wherever the
  // address is: in whoami, in messages, in logs. Refuse them, without repeating them.
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(`the address ${url.protocol}//…@${url.host} holds a user name or password; osfleet authenticates with an API token`, {
      hint: 'remove "user:password@" from the address (FLEET_URL or osfleet config set --address), then osfleet login',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`address ${address} must start with https:// (or http:// on loopback)`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !opts.allowInsecureHttp) {
    throw new ConfigError(`refusing plain http:// to ${url.host}: the token would travel unencrypted`, {
      hint: 'use https://, or if you really mean it: osfleet config set --allow-insecure-http',
    });
  }
  return url;
}
