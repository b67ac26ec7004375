import {
  builtinDrivers,
  isPluginError,
  resolveDriver,
  suggestDriver,
  type ConfigIssue,
  type Driver,
} from '@reconnect/core';

export { installedDriverPackages, suggestDriver } from '@reconnect/core';

/** A target's driver, loaded; or why it cannot be, as a located issue (`targets.NAME.driver`). */
export type DriverLoad = { ok: true; driver: Driver } | { ok: false; issue: ConfigIssue };

const builtinList = Object.keys(builtinDrivers).join(', ');

/**
 * Loads `driverName` for `target` as the library would (built-in alias or package, resolved from
 * `fromDir`). A driver that cannot be found is an issue at `targets.NAME.driver`: it suggests the closest
 * built-in or installed driver, and only ever names a package to install when it is a built-in's own.
 */
export async function loadTargetDriver(
  target: string,
  driverName: string,
  fromDir: string,
  file: string | undefined,
): Promise<DriverLoad> {
  try {
    return { ok: true, driver: await resolveDriver(driverName, fromDir) };
  } catch (error) {
    if (!isPluginError(error)) throw error;
    const at = { ...(file === undefined ? {} : { file }), path: ['targets', target, 'driver'] };
    const builtinPackage = builtinDrivers[driverName];
    if (!error.message.includes('is not installed')) {
      // Found, but it threw on import or is not shaped like a driver: the plugin's own message says which.
      return { ok: false, issue: { ...at, kind: 'driver_invalid', message: error.message } };
    }
    if (builtinPackage !== undefined) {
      return {
        ok: false,
        issue: {
          ...at,
          kind: 'driver_not_installed',
          message: `The built-in driver "${driverName}" is not installed here: add its package, npm install ${builtinPackage}`,
        },
      };
    }
    const near = suggestDriver(driverName, fromDir);
    const message =
      near === undefined
        ? `Unknown driver "${driverName}": not a built-in driver and no installed package of that name`
        : `Unknown driver "${driverName}" — did you mean \`${near}\`?`;
    return {
      ok: false,
      issue: {
        ...at,
        kind: 'unknown_driver',
        message,
        expected: `a built-in driver (${builtinList}), an installed driver package or a path to one`,
      },
    };
  }
}
