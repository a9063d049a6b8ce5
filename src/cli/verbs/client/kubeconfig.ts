/**
 * `grove kubeconfig [--user NAME] [--server URL] [--client-cert]`: a kubeconfig for kubectl
 * (docs/kubectl.md): the cluster (server URL, the cluster CA when the API is TLS), one user
 * and a context. Without --user it carries the admin token of the client config; with --user
 * the server issues a new token for that user, or with --client-cert a client certificate for a
 * key made here (only the public key leaves this machine).
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { ErrorCode, GroveError } from '../../../core/errors.js';
import { ApiClient } from '../../client/api-client.js';
import { loadClientConfig, type ClientConfig } from '../../client/client-config.js';
import { onOff, option } from '../../config/option.js';
import { text, url } from '../../config/units.js';
import { writeLine } from '../../io.js';
import { type Act } from '../../verb.js';

export const KUBECONFIG_OPTIONS = {
  user: option({ unit: text('name', 63), description: 'a user of `grove user create` (default: the admin token of the client config)' }),
  server: option({ unit: url, description: 'the API URL kubectl should use (default: the client config’s, often 127.0.0.1)' }),
  clientCert: onOff({ description: 'with --user: a client certificate signed by the cluster CA instead of a token (needs grove server --tls)' }),
};

/** A user's credential in a kubeconfig: a token, or a certificate and its key (PEM). */
export type KubeCredential = { token: string } | { certificatePem: string; keyPem: string };

const CLUSTER = 'grove';

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** The kubeconfig object (pure): one cluster, one user, one context that is current. */
export function kubeconfigObject(server: string, caPem: string | undefined, user: string, credential: KubeCredential): Record<string, unknown> {
  const context = `${user}@${CLUSTER}`;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER, cluster: { server, ...(caPem ? { 'certificate-authority-data': b64(caPem) } : {}) } }],
    users: [{ name: user, user: 'token' in credential ? { token: credential.token } : { 'client-certificate-data': b64(credential.certificatePem), 'client-key-data': b64(credential.keyPem) } }],
    contexts: [{ name: context, context: { cluster: CLUSTER, user, namespace: 'default' } }],
    'current-context': context,
    preferences: {},
  };
}

async function credentialFor(config: ClientConfig, user: string | undefined, clientCert: boolean): Promise<KubeCredential> {
  if (user === undefined) {
    if (clientCert) throw new GroveError(ErrorCode.InvalidArgument, '--client-cert needs --user NAME (certificates are for users of `grove user create`)');
    return { token: config.token };
  }
  const client = new ApiClient(config);
  const path = `/v1/users/${encodeURIComponent(user)}`;
  if (!clientCert) return client.post<{ token: string }>(`${path}/tokens`, {});
  // RSA: what the CA's signer (node-forge) takes; the key never leaves this process but in the output.
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const issued = await client.post<{ certificate: string }>(`${path}/certificates`, { publicKey });
  return { certificatePem: issued.certificate, keyPem: privateKey };
}

export function registerKubeconfig(program: Command, act: Act): void {
  act(
    program.command('kubeconfig').description('print a kubeconfig for kubectl: grove kubeconfig > ~/.kube/config'),
    KUBECONFIG_OPTIONS,
    async (ctx, _args, options) => {
      const config = await loadClientConfig({ config: ctx.clientConfig, dataDir: ctx.dataDir });
      const credential = await credentialFor(config, options.user, options.clientCert);
      const server = options.server ?? config.apiUrl;
      // client-go never sends a token or certificate over plain http: say so rather than let kubectl answer 401.
      if (server.startsWith('http:')) writeLine(ctx.io.stderr, `grove: warning: ${server} is plain http and kubectl sends credentials only over https: start the server with --tls`);
      const object = kubeconfigObject(server, config.caCert, options.user ?? 'grove-admin', credential);
      ctx.io.stdout.write((await import('yaml')).stringify(object, { lineWidth: 0 }));
    },
  );
}
