/** The drivers shipped with Reconnect, by the short name a config file uses. */
export const builtinDrivers: Readonly<Record<string, string>> = {
  mysql: '@reconnect/driver-mysql',
  mariadb: '@reconnect/driver-mysql',
  redis: '@reconnect/driver-redis',
  elasticsearch: '@reconnect/driver-elasticsearch',
};
