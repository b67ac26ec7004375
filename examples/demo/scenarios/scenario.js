// The shape of one store's scenario. Each store is one module returning this object; the runner
// knows nothing of Redis, MariaDB or Elasticsearch beyond it.

/**
 * @typedef {object} Fault
 * @property {string} name        announced when it starts
 * @property {number} at          seconds after the workload starts
 * @property {number} for         seconds until `end` (the server's return)
 * @property {() => Promise<unknown>} start
 * @property {() => Promise<unknown>} end   resolves once the server accepts connections again
 */

/**
 * @typedef {object} Scenario
 * @property {string} store         short id (`redis`)
 * @property {string} title         for people (`Redis`)
 * @property {string} target        the policy file's target name
 * @property {string} driverPackage imported to see whether the store can run at all
 * @property {string} rawName       how the raw client is labelled
 * @property {string} readName      the idempotent read (`GET`)
 * @property {string} writeName     the non-idempotent write (`RPUSH`)
 * @property {() => Promise<Record<string, string>>} setup   starts the throwaway servers; the policy's variables
 * @property {() => unknown | Promise<unknown>} rawClient    the store's own client at its defaults
 * @property {(client: any) => Promise<unknown>} closeRaw
 * @property {(client: any) => Promise<unknown>} read
 * @property {(client: any, lane: string, id: string) => Promise<unknown>} write
 * @property {(lane: string) => Promise<string[]>} serverWrites every write id the server holds for a lane, duplicates included
 * @property {(scale: number) => Fault[]} faults
 * @property {() => Promise<unknown>} teardown
 * @property {(target: any) => void} [prepare] after the target started (create a table, an index)
 * @property {() => any} [handle]  the throwaway server or cluster once `setup` ran (bench/chaos plays its own faults)
 */

export {};
