/**
 * The real kubectl against a test server: a kubeconfig holding the server's URL, cluster CA and
 * admin token (from the client.json `grove server` writes in its data dir), and a runner that
 * gives kubectl its own HOME (its discovery and HTTP caches) and reports the exit code.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Kubectl = (...args: string[]) => Promise<KubectlResult>;

/** Writes `<home>/kubeconfig` for the server whose data dir is `serverDataDir`; its path. */
export async function writeKubeconfig(home: string, serverDataDir: string): Promise<string> {
  const client = JSON.parse(await readFile(join(serverDataDir, 'client.json'), 'utf8')) as { apiUrl: string; token: string; caCert: string };
  const path = join(home, 'kubeconfig');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: grove, cluster: {server: "${client.apiUrl}", certificate-authority-data: ${Buffer.from(client.caCert).toString('base64')}}}]`,
      `users: [{name: admin, user: {token: "${client.token}"}}]`,
      'contexts: [{name: grove, context: {cluster: grove, user: admin}}]',
      'current-context: grove',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}

/** kubectl with `kubeconfig`, HOME at `home`; never throws for a non-zero exit. */
export function kubectlWith(home: string, kubeconfig: string, timeoutMs = 60_000): Kubectl {
  return async (...args) => {
    try {
      const { stdout, stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig }, timeout: timeoutMs });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
}
