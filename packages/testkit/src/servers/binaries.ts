import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MissingBinaryError } from '../errors.js';

/** Where to look for one server binary, and which Debian package provides it. */
export interface BinarySpec {
  name: string;
  debianPackage: string;
  /** Extra directories searched after PATH (globs are not supported; see `postgresBinDirs`). */
  extraDirs?: readonly string[];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds an executable: an explicit path wins, then PATH, then `extraDirs`.
 * Throws {@link MissingBinaryError} naming the package to install.
 */
export function findBinary(spec: BinarySpec, explicit?: string): string {
  if (explicit !== undefined) {
    if (isExecutable(explicit)) return explicit;
    throw new MissingBinaryError(explicit, spec.debianPackage, [explicit]);
  }
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...(spec.extraDirs ?? [])];
  for (const dir of dirs) {
    const candidate = join(dir, spec.name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new MissingBinaryError(spec.name, spec.debianPackage, spec.extraDirs ?? []);
}

/** `/usr/lib/postgresql/<version>/bin`, newest version first (Debian installs them there, off PATH). */
export function postgresBinDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}

/** The uid and gid of an OS user, from /etc/passwd; undefined when there is no such user. */
export function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid !== undefined && gid !== undefined)
        return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd: not Linux
  }
  return undefined;
}
