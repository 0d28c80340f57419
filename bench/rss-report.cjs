// Preloaded with `node --require`: reports the process's peak RSS (KiB) and CPU time (user + system,
// microseconds) on stderr as it exits.
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(`\n[bench-rss] ${u.maxRSS}\n[bench-cpu] ${u.userCPUTime + u.systemCPUTime}\n`);
});
