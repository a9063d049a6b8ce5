/**
 * Entry point run as `nsenter --target <pid> --net -- node probe-net-main.js '<check json>' <timeoutMs>`
 * so that the check runs inside a container's network namespace. Like src/cli/grove.ts it acts
 * at import: that is its whole purpose, and nothing imports it. Exit 0 = success, 1 = failure;
 * the one-line outcome goes to stdout.
 */
import { checkNetwork, type NetworkCheck } from './probe-net.js';

const [json = '{}', timeout = '1000'] = process.argv.slice(2);
checkNetwork(JSON.parse(json) as NetworkCheck, Number(timeout)).then(
  (outcome) => {
    process.stdout.write(`${outcome.message}\n`);
    process.exitCode = outcome.ok ? 0 : 1;
  },
  (err: unknown) => {
    process.stdout.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
