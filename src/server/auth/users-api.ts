/**
 * The server's side of `grove user create|list|delete` and `grove kubeconfig --user NAME`
 * (docs/security.md, "Users and roles"): request bodies checked here, records in users.ts,
 * certificates from client-certs.ts. Callers run the writes under the server's mutex.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import { invalid, isObj, onlyKeys } from '../request-fields.js';
import type { ClusterCa } from '../security/ca.js';
import { checkClientCertRequest, issueClientCert, type IssuedClientCert } from './client-certs.js';
import { addUserToken, createUser, getUser, recordUserCertificate, validRole, validUserName, type UserView } from './users.js';

/** POST /v1/users {name, role}: the user and its first token (shown once). */
export async function createUserFromBody(store: Store, body: unknown, now: Date): Promise<{ user: UserView; token: string }> {
  if (!isObj(body)) throw invalid('body', 'expected {"name": "…", "role": "admin|edit|view"}');
  onlyKeys(body, '', ['name', 'role']);
  return createUser(store, validUserName(body.name), validRole(body.role), now);
}

/** POST /v1/users/<name>/tokens: one more token for an existing user. */
export function addTokenForUser(store: Store, name: string, now: Date): Promise<{ token: string }> {
  return addUserToken(store, validUserName(name), now);
}

/**
 * POST /v1/users/<name>/certificates {publicKey, groups?, days?}: a client certificate signed by
 * the cluster CA for an existing user, its serial recorded in the same step (signed first: a
 * failed write leaves an unrecorded certificate, which authenticates nobody).
 */
export async function issueCertificateForUser(store: Store, ca: ClusterCa | undefined, name: string, body: unknown, now: Date): Promise<IssuedClientCert> {
  if (!ca) throw new GroveError(ErrorCode.InvalidArgument, 'this server runs without TLS: client certificates need `grove server --tls` (use a token instead)');
  if (!isObj(body)) throw invalid('body', 'expected {"publicKey": "<PEM>", "groups": […], "days": N}');
  onlyKeys(body, '', ['publicKey', 'groups', 'days']);
  const user = await getUser(store, validUserName(name));
  if (!user) throw new GroveError(ErrorCode.NotFound, `user ${JSON.stringify(name)} not found (grove user create ${name} --role …)`, { details: { name } });
  const request = checkClientCertRequest(body.publicKey, body.groups, body.days);
  const issued = issueClientCert(ca, { user: user.name, groups: request.groups, publicKeyPem: request.publicKeyPem, days: request.days, now });
  await recordUserCertificate(store, user.name, issued, now);
  return issued;
}
