// Preloaded with `node --require`: reports the process's peak RSS (KiB) on stderr as it exits.
process.on('exit', () => {
  process.stderr.write(`\n[bench-rss] ${process.resourceUsage().maxRSS}\n`);
});
