import { readdirSync, readFileSync } from 'node:fs';

// A server's "family" is its process group plus every descendant of the leader. Servers run in their
// own process group (spawned detached), but the group alone is not enough: every PostgreSQL backend
// and auxiliary process calls setsid() and leads a session and group of its own, so a signal to the
// postmaster's group would leave open connections answering during a hang. Descendants are found
// through the parent pid in /proc.

interface Stat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    return state === undefined ? undefined : { pid, state, ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

const dead = (s: Stat): boolean => s.state === 'Z' || s.state === 'X';

function allStats(): Stat[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const stats: Stat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined) stats.push(stat);
  }
  return stats;
}

/**
 * The live (non-zombie) processes of the server led by `leader`: its process group and all its
 * descendants. Without /proc (not Linux) only "someone in the group can be signalled" is known.
 */
export function familyMembers(leader: number): number[] {
  const stats = allStats();
  if (stats === undefined) {
    try {
      process.kill(-leader, 0);
      return [leader];
    } catch {
      return [];
    }
  }
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const members = new Set<number>();
  for (const s of stats) if (s.pgrp === leader && !dead(s)) members.add(s.pid);
  const root = stats.find((s) => s.pid === leader);
  const queue = root === undefined || dead(root) ? [] : [root];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (!dead(s)) members.add(s.pid);
    for (const child of children.get(s.pid) ?? []) queue.push(child);
  }
  return [...members].sort((a, b) => a - b);
}

/** Whether process `pid` is alive (a zombie counts as dead: it no longer holds sockets). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  if (stat !== undefined) return !dead(stat);
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

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/**
 * Sends `sig` to every process of the family. For SIGSTOP and SIGKILL the leader is stopped first, so
 * it cannot fork between the listing and the signal, and its children are listed while they are
 * still its children (once it dies they are re-parented and can no longer be found). Returns the pids.
 */
export function signalFamily(leader: number, sig: NodeJS.Signals): number[] {
  if (sig === 'SIGSTOP' || sig === 'SIGKILL') signal(leader, 'SIGSTOP');
  const members = familyMembers(leader);
  try {
    process.kill(-leader, sig);
  } catch {
    // no such group any more; descendants may still live
  }
  for (const pid of members) signal(pid, sig);
  return members;
}

/** True when every process of the family is stopped (after SIGSTOP). */
export function familyStopped(leader: number): boolean {
  return familyMembers(leader).every(isStopped);
}

/** True when no process of the family is stopped (after SIGCONT). */
export function familyRunning(leader: number): boolean {
  return !familyMembers(leader).some(isStopped);
}

/** SIGKILLs the whole family and waits, bounded, until every one of its processes is gone. */
export async function killFamily(leader: number, timeoutMs = 5000): Promise<boolean> {
  const victims = new Set(signalFamily(leader, 'SIGKILL'));
  const start = performance.now();
  for (;;) {
    // Re-list: a child forked just before the leader stopped is killed too.
    for (const pid of familyMembers(leader)) {
      victims.add(pid);
      signal(pid, 'SIGKILL');
    }
    if ([...victims].every((pid) => !isAlive(pid))) return true;
    if (performance.now() - start > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Synchronous SIGKILL of the family, for process-exit hooks where nothing can be awaited. */
export function killFamilySync(leader: number): void {
  signalFamily(leader, 'SIGKILL');
}
