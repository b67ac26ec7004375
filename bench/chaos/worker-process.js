/* global clearTimeout */
// The fleet benchmarks' worker processes (fork()ed with an IPC channel): stopped the same way by each.

/** Asks the worker to stop, waits up to `graceMs` for it to exit, then kills it; leaves no channel open. */
export async function stopWorker(child, graceMs) {
  if (child.exitCode === null) {
    child.send({ type: 'stop' });
    let timer;
    await Promise.race([
      new Promise((r) => child.once('exit', r)),
      new Promise((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if (child.connected) child.disconnect();
}
