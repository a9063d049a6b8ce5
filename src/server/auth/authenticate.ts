/**
 * Who is asking: a verified client certificate of the cluster CA whose serial its user still
 * holds (client-certs.ts, users.ts), else the bearer token — the admin token (`system:admin`,
 * in group system:masters) or a user token. Kubernetes' order: certificate first, then token.
 * Undefined means unauthenticated: the router answers 401 and runs nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { Store } from '../../store/store.js';
import { bearerToken, tokenMatches } from '../http.js';
import { AUTHENTICATED_GROUP as AUTHENTICATED, adminTokenUser, type UserInfo } from './authorize.js';
import { verifiedPeerCertificate } from './client-certs.js';
import { isUserToken, userForCertificate, userForToken } from './users.js';


export type Authenticate = (req: IncomingMessage) => Promise<UserInfo | undefined>;

export interface AuthenticatorOptions {
  /** Read per request: `grove token rotate-admin` changes it. */
  adminToken: () => string;
  /** Where users live; without it only the admin token authenticates. */
  store?: Store;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  const { store } = options;
  return async (req) => {
    const cert = store ? verifiedPeerCertificate(req.socket) : undefined;
    if (cert && store) {
      const user = await userForCertificate(store, cert.commonName, cert.serial);
      if (user) return { username: user.name, groups: [...new Set([...cert.groups, AUTHENTICATED])], role: user.role, via: 'certificate' };
    }
    const token = bearerToken(req);
    if (token === undefined) return undefined;
    if (store && isUserToken(token)) {
      const user = await userForToken(store, token);
      return user ? { username: user.name, groups: [AUTHENTICATED], role: user.role, via: 'token' } : undefined;
    }
    if (tokenMatches(token, options.adminToken())) return adminTokenUser();
    return undefined;
  };
}
