#!/usr/bin/env node
// Node's compile cache keeps V8's code for the bundle between runs, in $XDG_CACHE_HOME/osfleet
// (by default ~/.cache/osfleet; never the temporary folder, which osfleet leaves as it found it;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): about a tenth of the CPU of a command such as `lint`
// or `get hosts` (bench/README.md). It applies to what is imported after it, hence the `import()`.
import module from 'node:module';
import path from 'node:path';

const { XDG_CACHE_HOME: xdg, HOME: home } = process.env;
const cacheHome = xdg && path.isAbsolute(xdg) ? xdg : home ? path.join(home, '.cache') : undefined;
if (cacheHome) module.enableCompileCache?.(path.join(cacheHome, 'osfleet', 'compile-cache'));
const { main } = await import('../bundle/cli.js');
process.exitCode = await main(process.argv.slice(2));
