#!/usr/bin/env node
// All of the launcher is bundle/launch.cjs (src/launch.ts), required rather than imported: an
// import of a builtin makes Node build its ES-module facade, and fs's loads all of Node's streams.
const { createRequire } = process.getBuiltinModule?.('node:module') ?? (await import('node:module'));
const { launch } = createRequire(import.meta.url)('../bundle/launch.cjs');
process.exitCode = await launch(process.argv.slice(2));
