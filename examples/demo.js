// Interim `npm run demo`: checks the example policy file and explains one target's schedules.
// A later issue replaces this with a live demo that crashes and restarts real servers.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { main } from '../packages/cli/dist/main.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const config = path.join(here, 'reconnect.config.yaml');

function banner(text) {
  process.stdout.write(`\n$ ${text}\n\n`);
}

banner('reconnect validate --config examples/reconnect.config.yaml');
let code = await main(['validate', '--config', config]);
if (code === 0) {
  banner('reconnect explain cache --config examples/reconnect.config.yaml');
  code = await main(['explain', 'cache', '--config', config]);
}
process.exitCode = code;
