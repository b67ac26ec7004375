// `pg` ships no types and @types/pg is not a dependency here; this declares the little the driver uses.
declare module 'pg' {
  interface PoolConfig {
    connectionString?: string;
    host?: string;
    port?: number;
    user?: string;
    password?: string;
    database?: string;
    max?: number;
    connectionTimeoutMillis?: number;
    idleTimeoutMillis?: number;
    allowExitOnIdle?: boolean;
    application_name?: string;
    keepAlive?: boolean;
    query_timeout?: number;
  }
  interface QueryResult<Row = Record<string, unknown>> {
    rows: Row[];
    rowCount: number | null;
    command: string;
  }
  class Pool {
    constructor(config?: PoolConfig);
    query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<Row>>;
    end(): Promise<void>;
    on(event: 'error', listener: (error: Error) => void): this;
    readonly totalCount: number;
    readonly idleCount: number;
    readonly waitingCount: number;
  }
  const pg: { Pool: typeof Pool };
  export default pg;
  export type { Pool, PoolConfig, QueryResult };
}
