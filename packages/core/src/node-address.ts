/** One server a target can talk to. */
export interface NodeAddress {
  /** A stable id for the node, e.g. `127.0.0.1:9200` or a URL without credentials. */
  id: string;
  host: string;
  port: number;
  /** The URL to connect to, for HTTP drivers. Must not carry credentials (they go in the driver options). */
  url?: string;
  /**
   * Node roles as reported by discovery or the config, e.g. `['data', 'ingest']`, `['primary']`, `['replica']`.
   * A node with the role `replica` serves only operations declared `readOnly`.
   */
  roles?: readonly string[];
  /** Free-form node metadata from discovery or the config (zone, version, name). */
  attributes?: Readonly<Record<string, string>>;
}
