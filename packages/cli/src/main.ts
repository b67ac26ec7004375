/** Runs the `reconnect` command with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  process.stdout.write(`reconnect: not built yet (${argv.join(' ')})\n`);
  return Promise.resolve(1);
}
