import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROVE_BIN, assertBuilt, runGrove } from '../support/grove-cli.js';
import { ADMIN, startCluster, type Cluster } from './server-harness.js';

const run = promisify(execFile);

/**
 * What a new user meets at the shell, through the real `grove` executable: a reader that goes
 * away after one line (`| head -1`), and a port another process holds.
 */
describe('grove at the shell', () => {
  let dir: string;
  let cluster: Cluster;
  const holders: Server[] = [];

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'grove-cli-user-'));
    cluster = await startCluster();
    await writeFile(join(dir, 'client.json'), JSON.stringify({ apiUrl: cluster.api.url, token: ADMIN }));
  });

  afterAll(async () => {
    for (const h of holders) await new Promise((r) => h.close(r));
    await cluster?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A port on 127.0.0.1 held by a listener of this test process. */
  const heldPort = async (): Promise<number> => {
    const server = createServer();
    holders.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  };

  it('`grove describe … | head -1` prints one line and ends quietly with exit 0', async () => {
    // 1000 keys of 200 characters: ~200 KiB of output, far more than a pipe holds, so grove is
    // still writing when head exits after the first line (no timing involved).
    const data = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key-${String(i).padStart(4, '0')}-${'x'.repeat(191)}`, 'v']));
    const applied = await cluster.call('POST', '/v1/apply', { objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data }] });
    expect(applied.status, applied.text).toBe(200);
    const script = '"$0" "$1" --config "$2" describe configmap big | head -1; echo "grove exit ${PIPESTATUS[0]}" >&2';
    const { stdout, stderr } = await run('bash', ['-c', script, process.execPath, GROVE_BIN, join(dir, 'client.json')]);
    expect(stdout).toMatch(/^Name:\s+big\n$/); // the first line of kubectl's layout, and only it
    expect(stderr).toBe('grove exit 0\n'); // no stack trace, no EPIPE
  });

  it('`grove server` names a busy API or MQTT port and the flag that moves it', async () => {
    const port = await heldPort();
    for (const [flag, other] of [['--api-addr', '--mqtt-addr'], ['--mqtt-addr', '--api-addr']] as const) {
      const dataDir = join(dir, `server${flag}`);
      const r = await runGrove(['--data-dir', dataDir, '--log-level', 'error', 'server', '--no-agent', flag, `127.0.0.1:${port}`, other, '127.0.0.1:0'], {}, 60_000);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`grove: port ${port} is already in use (${flag} 127.0.0.1:${port}): stop the other process or pick another address`);
    }
  });
});
