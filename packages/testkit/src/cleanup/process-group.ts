import { readdirSync, readFileSync } from 'node:fs';

// Servers run in their own process group (spawned detached), so a signal reaches every process of
// the server: PostgreSQL forks a backend per connection, and SIGSTOP on the postmaster alone would
// leave existing connections answering.

/** Sends `signal` to the whole process group led by `pgid`; false if the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The live (non-zombie) processes of process group `pgid`, read from /proc on Linux. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No /proc: fall back to "someone in the group can be signalled".
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X')
      members.push(Number(entry));
  }
  return members;
}

/** Whether process `pid` is alive (a zombie counts as dead: it no longer holds sockets). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  if (stat !== undefined) return stat.state !== 'Z' && stat.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether process `pid` is stopped (SIGSTOP). */
export function isStopped(pid: number): boolean {
  const state = readStat(pid)?.state;
  return state === 'T' || state === 't';
}

function readStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const pgrp = Number(rest[2]);
    return state === undefined ? undefined : { state, pgrp };
  } catch {
    return undefined;
  }
}

/** SIGKILLs the group (after SIGCONT, so stopped members die too) and waits, bounded, until it is gone. */
export async function killGroup(pgid: number, timeoutMs = 5000): Promise<boolean> {
  signalGroup(pgid, 'SIGKILL');
  signalGroup(pgid, 'SIGCONT');
  const start = performance.now();
  while (groupMembers(pgid).length > 0) {
    if (performance.now() - start > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** Synchronous SIGKILL of the group, for process-exit hooks where nothing can be awaited. */
export function killGroupSync(pgid: number): void {
  signalGroup(pgid, 'SIGKILL');
  signalGroup(pgid, 'SIGCONT');
}
