import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder whose open connections can be frozen: a frozen connection forwards nothing and tells the
 * client nothing (no FIN, no RST) — a connection that died while idle behind a NAT, a load balancer or a
 * failover, which the client only learns about when it next writes and waits. New connections pass.
 */
export interface Freezer {
  readonly port: number;
  /** Freezes every open connection; their server sides are closed (the server forgets them). */
  freeze(): void;
  close(): Promise<void>;
}

export async function startFreezer(target: { host: string; port: number }): Promise<Freezer> {
  const links = new Set<{ client: Socket; server: Socket; frozen: boolean }>();
  const clients = new Set<Socket>();
  const server: Server = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    const upstream = connect(target);
    const link = { client, server: upstream, frozen: false };
    links.add(link);
    client.on('data', (d) => {
      if (!link.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!link.frozen) client.write(d);
    });
    const end = () => {
      links.delete(link);
      if (!link.frozen) client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    client.on('close', () => {
      links.delete(link);
      upstream.destroy();
    });
    upstream.on('error', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    freeze() {
      for (const link of links) {
        link.frozen = true;
        link.server.destroy();
      }
    },
    async close() {
      for (const link of links) link.server.destroy();
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
