import { isIP } from 'node:net';

/** How `_nodes` reports a node's `http.publish_address`: `127.0.0.1:9200` or `localhost/127.0.0.1:9200`. */
export type PublishAddressForm = 'ip:port' | 'host/ip:port';

/** True for 127.0.0.0/8 and ::1. */
export function isLoopbackIp(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || ip === '[::1]';
}

/**
 * Checks an address the cluster is asked to publish: `ip:port` or `host/ip:port` with a loopback IP,
 * and a host part that is `localhost` or itself a loopback IP. Anything else (a private or public
 * address, another host name) is refused: the test cluster never points a client off this machine.
 */
export function assertLoopbackAddress(address: string): void {
  const slash = address.indexOf('/');
  const hostPart = slash === -1 ? undefined : address.slice(0, slash);
  const rest = slash === -1 ? address : address.slice(slash + 1);
  const match = /^(\[::1\]|[0-9.]+):(\d{1,5})$/.exec(rest);
  const port = match === null ? NaN : Number(match[2]);
  const ok =
    match !== null &&
    isLoopbackIp(match[1]!) &&
    port > 0 &&
    port < 65536 &&
    (hostPart === undefined || hostPart === 'localhost' || isLoopbackIp(hostPart));
  if (!ok) {
    throw new RangeError(
      `publish address "${address}" is not a loopback address (expected ip:port or localhost/ip:port with 127.x.x.x or [::1])`,
    );
  }
}

/** `127.0.0.1:<port>` in the chosen form. */
export function formatPublishAddress(port: number, form: PublishAddressForm): string {
  return form === 'ip:port' ? `127.0.0.1:${port}` : `localhost/127.0.0.1:${port}`;
}
