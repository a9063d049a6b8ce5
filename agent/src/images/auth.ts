/** WWW-Authenticate parsing and the bearer-token cache used by the registry client. */

export interface AuthChallenge {
  /** Lower-case scheme: "bearer", "basic" … */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
  token68?: string;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Parses a WWW-Authenticate header value per RFC 7235, including several challenges in one
 * header (`Bearer realm="a",service="b", Basic realm="c"`) and quoted strings with escapes.
 * Malformed tails are ignored rather than thrown: the client then falls back to what it has.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  const s = header;
  let i = 0;
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] === '"'
    i++;
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end)
    return v;
  };

  while (i < s.length) {
    while (i < s.length && (s[i] === ',' || s[i] === ' ' || s[i] === '\t')) i++;
    const scheme = readToken();
    if (!scheme) {
      if (i < s.length) i++; // skip a stray character
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipWs();
    // token68 form (`Negotiate abc==`): the whole element up to the next comma.
    const t68 = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)/.exec(s.slice(i));
    if (t68) {
      challenge.token68 = t68[1]!;
      i += t68[1]!.length;
      continue;
    }
    // auth-param list
    for (;;) {
      skipWs();
      const paramStart = i;
      const name = readToken();
      if (!name) break;
      skipWs();
      if (s[i] !== '=') {
        // Not a parameter: the start of the next challenge.
        i = paramStart;
        break;
      }
      i++;
      skipWs();
      const value = s[i] === '"' ? readQuoted() : readToken();
      challenge.params[name.toLowerCase()] = value;
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return out;
}

export interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Bearer tokens keyed by realm + service + scope, honouring expires_in (minus a margin). */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly now: () => number = Date.now) {}

  static key(realm: string, service: string | undefined, scope: string): string {
    return `${realm}\u0000${service ?? ''}\u0000${scope}`;
  }

  get(key: string): string | undefined {
    const hit = this.tokens.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return hit.token;
  }

  set(key: string, token: string, expiresInSeconds: number | undefined): void {
    // Registries default to 60 s when expires_in is absent; keep a 10 s safety margin.
    const lifetime = Math.max(5, (expiresInSeconds && expiresInSeconds > 0 ? expiresInSeconds : 60) - 10);
    this.tokens.set(key, { token, expiresAt: this.now() + lifetime * 1000 });
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
