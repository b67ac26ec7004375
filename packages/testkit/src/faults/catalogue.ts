import { dnsFaults } from './dns-faults.js';
import { esFaults } from './es-faults.js';
import type { CatalogueFault } from './fault.js';
import { networkFaults } from './network-faults.js';
import { sentinelFaults } from './sentinel-faults.js';
import { serverFaults } from './server-faults.js';
import { storeFaults } from './store-faults.js';
import { tlsFaults } from './tls-faults.js';

export type { ActiveFault, CatalogueFault, FaultEnv, FaultGroup, FaultStore } from './fault.js';

/** Every fault of the catalogue, by group: process, network, connections, security, store, client. */
export const faultCatalogue: readonly CatalogueFault[] = [
  ...networkFaults,
  ...serverFaults,
  ...dnsFaults,
  ...storeFaults,
  ...tlsFaults,
  ...esFaults,
  ...sentinelFaults,
];

/** The catalogue's fault of that name (throws with the names known). */
export function faultNamed(name: string): CatalogueFault {
  const f = faultCatalogue.find((x) => x.name === name);
  if (f === undefined)
    throw new Error(`no fault "${name}" in the catalogue (${faultCatalogue.map((x) => x.name).join(', ')})`);
  return f;
}
