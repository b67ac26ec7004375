// `npm run demo`: Reconnect keeping real Redis, MariaDB and Elasticsearch connections alive through real
// faults, side by side with the raw clients. See examples/demo/ for the runner and the stores' scenarios.
//   node examples/demo.js [--short] [--out DIR] [--only redis,mysql,elasticsearch]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runDemo } from './demo/runner.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    out: { type: 'string', default: 'demo-report' },
    only: { type: 'string' },
  },
});
// Ctrl-C: the testkit's own exit hooks SIGKILL every throwaway server and remove its directory.
process.once('SIGINT', () => {
  process.stdout.write('\n✗ interrupted: every throwaway server is being stopped; no summary\n');
  process.exit(130);
});
let code = 1;
try {
  const result = await runDemo({
    short: values.short,
    outDir: path.resolve(values.out),
    ...(values.only ? { only: values.only.split(',') } : {}),
  });
  code = result.code;
} catch (error) {
  const usage = /^unknown store /.test(error?.message ?? '');
  console.error(`✗ the demo could not run: ${usage ? error.message : (error?.stack ?? error)}`);
}
process.exitCode = code;
// Everything is closed by now; if a handle still kept the process alive it would be a bug, so say so.
setTimeout(() => {
  console.error('! a handle kept the process alive 3 s after the demo ended; exiting');
  process.exit(code);
}, 3000).unref();
