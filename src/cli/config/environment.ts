/**
 * The process environment, read here and nowhere else in Grove: the GROVE_* variables the
 * option tables declare, and the few facts of the host the defaults and the roles need (who we
 * run as, where home is, PATH for finding runtimes and CNI plugins, systemd's notify socket).
 * Everything else receives values, never `process.env`, so a test builds its own Environment.
 */
import { hostname } from 'node:os';

export interface HostFacts {
  /** This machine's name, lowercased (the default node name is made from it). */
  readonly hostname: string;
  /** Running as root: the data dir defaults to /var/lib/grove. */
  readonly root: boolean;
  readonly home: string;
  /** $XDG_DATA_HOME, when set: a user's data dir lives under it. */
  readonly xdgDataHome?: string;
  /** $PATH: where OCI runtimes are looked up and what CNI plugins run with. */
  readonly searchPath: string;
  /** systemd's notification variables (sd_notify), for the long-running roles. */
  readonly notify: { readonly NOTIFY_SOCKET?: string; readonly WATCHDOG_USEC?: string; readonly WATCHDOG_PID?: string };
}

export interface Environment {
  /** A variable's value; an empty one counts as unset. */
  variable(name: string): string | undefined;
  /** Drops a secret variable (a join token) so that nothing started from here inherits it. */
  forget(name: string): void;
  readonly host: HostFacts;
}

/** PATH when the environment has none: where Debian keeps runc, crun and the CNI plugins. */
const FALLBACK_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

function hostFacts(vars: Readonly<Record<string, string | undefined>>, root: boolean): HostFacts {
  const set = (name: string): string | undefined => (vars[name] === '' ? undefined : vars[name]);
  const notify = Object.fromEntries((['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const).flatMap((n) => (set(n) !== undefined ? [[n, set(n)]] : [])));
  return {
    hostname: hostname().toLowerCase(),
    root,
    home: set('HOME') ?? '/root',
    ...(set('XDG_DATA_HOME') ? { xdgDataHome: set('XDG_DATA_HOME') } : {}),
    searchPath: set('PATH') ?? FALLBACK_PATH,
    notify,
  };
}

/** This process's environment. */
export function processEnvironment(): Environment {
  return {
    variable: (name) => process.env[name] || undefined,
    forget: (name) => {
      delete process.env[name];
    },
    host: hostFacts(process.env, process.getuid?.() === 0),
  };
}

/** An environment made of `vars` (tests, and embedding Grove in another program). */
export function fixedEnvironment(vars: Readonly<Record<string, string>> = {}, host: Partial<HostFacts> = {}): Environment {
  const copy = new Map(Object.entries(vars));
  return {
    variable: (name) => copy.get(name) || undefined,
    forget: (name) => void copy.delete(name),
    host: { ...hostFacts(vars, false), ...host },
  };
}
