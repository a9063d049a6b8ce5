/**
 * Container settings docker has and Kubernetes has not, given on a pod template as grove.io/
 * annotations (what compose's `ulimits`, `init`, `stop_signal` and `logging.options` become; a
 * Kubernetes manifest may write them too). Each parser throws a message without the key, as the
 * annotation rules in annotations.ts expect; the node reads them leniently (a bad value is unset).
 */
import { parseBytes } from '../quantity.js';
import { quoteValue } from '../quote.js';

/** "nofile=1024:2048,nproc=512" (soft[:hard]; -1 is unlimited), docker's `--ulimit` names. */
export const ULIMITS_ANNOTATION = 'grove.io/ulimits';
/** "true": a tiny init (grove-shim init) runs as PID 1, reaps zombies and forwards signals (docker --init). */
export const INIT_ANNOTATION = 'grove.io/init';
/** The signal that stops the containers instead of SIGTERM ("SIGINT", "SIGQUIT", "SIGRTMIN+3"…), docker's StopSignal. */
export const STOP_SIGNAL_ANNOTATION = 'grove.io/stop-signal';
/** Per-container log file cap ("10m", docker json-file's max-size) and how many rotated files are kept (max-file). */
export const LOG_MAX_SIZE_ANNOTATION = 'grove.io/log-max-size';
export const LOG_MAX_FILE_ANNOTATION = 'grove.io/log-max-file';

/** docker's ulimit names → the OCI rlimit type. */
export const ULIMIT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
});

/** One rlimit; 'unlimited' for docker's -1. */
export interface Ulimit {
  name: string;
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

const LIMIT_VALUE = /^(-1|0|[1-9][0-9]{0,15})$/;

function limitValue(text: string, item: string): number | 'unlimited' {
  if (!LIMIT_VALUE.test(text)) throw new Error(`${quoteValue(item)}: ${quoteValue(text)} is not a whole number (or -1 for unlimited)`);
  return text === '-1' ? 'unlimited' : Number(text);
}

const above = (a: number | 'unlimited', b: number | 'unlimited') => a === 'unlimited' ? b !== 'unlimited' : b !== 'unlimited' && a > b;

export function parseUlimits(value: string): Ulimit[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('lists no ulimit (write NAME=SOFT[:HARD],…)');
  const seen = new Set<string>();
  return items.map((item) => {
    const m = /^([a-z]+)=([^:]+)(?::(.+))?$/.exec(item);
    if (!m) throw new Error(`${quoteValue(item)} is not NAME=SOFT[:HARD]`);
    const [, name, softText, hardText] = m as unknown as [string, string, string, string | undefined];
    if (!ULIMIT_TYPES[name]) throw new Error(`${quoteValue(name)} is not a ulimit (one of ${Object.keys(ULIMIT_TYPES).join(', ')})`);
    if (seen.has(name)) throw new Error(`${quoteValue(name)} is given twice`);
    seen.add(name);
    const soft = limitValue(softText, item);
    const hard = hardText === undefined ? soft : limitValue(hardText, item);
    if (above(soft, hard)) throw new Error(`${quoteValue(item)}: the soft limit is above the hard limit`);
    return { name, soft, hard };
  });
}

export function formatUlimits(list: readonly Ulimit[]): string {
  const text = (v: number | 'unlimited') => (v === 'unlimited' ? '-1' : String(v));
  return list.map((u) => (u.soft === u.hard ? `${u.name}=${text(u.soft)}` : `${u.name}=${text(u.soft)}:${text(u.hard)}`)).join(',');
}

/** Linux signal names a stop signal may be (numbers are refused: they differ between architectures). */
const SIGNALS = new Set([
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM', 'STKFLT',
  'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS',
]);

/** "SIGINT", "int", "RTMIN+3" → the name the runtime's kill takes without SIG ("INT", "RTMIN+3"). */
export function parseStopSignal(value: string): string {
  const name = value.trim().toUpperCase().replace(/^SIG/, '');
  const rt = /^RTM(IN|AX)([+-]([0-9]|[12][0-9]|30))?$/.exec(name);
  if (!SIGNALS.has(name) && !rt) throw new Error(`${quoteValue(value)} is not a signal name such as SIGINT or SIGQUIT`);
  return name;
}

export function parseInit(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new Error(`must be "true" or "false", got ${quoteValue(value)}`);
  return value === 'true';
}

/** The shim's floor (launcher.ts MIN_LOG_MAX_BYTES) and a ceiling that keeps one container from filling a Pi's card. */
export const LOG_MAX_SIZE_RANGE = { min: 4096, max: 1024 ** 3 } as const;
export const LOG_MAX_FILE_RANGE = { min: 1, max: 100 } as const;

/** docker's max-size: "10m", "512k", "1g", or bytes. */
export function parseLogMaxSize(value: string): number {
  const bytes = parseBytes(value.trim(), 'max-size');
  if (!Number.isSafeInteger(bytes) || bytes < LOG_MAX_SIZE_RANGE.min || bytes > LOG_MAX_SIZE_RANGE.max) {
    throw new Error(`${quoteValue(value)} must be between 4k and 1g`);
  }
  return bytes;
}

export function parseLogMaxFile(value: string): number {
  const n = Number(value.trim());
  if (!/^[0-9]+$/.test(value.trim()) || n < LOG_MAX_FILE_RANGE.min || n > LOG_MAX_FILE_RANGE.max) throw new Error(`${quoteValue(value)} must be a whole number from 1 to 100`);
  return n;
}

/** What the node applies to every container of the pod. */
export interface ContainerOptions {
  ulimits?: Ulimit[];
  init?: boolean;
  stopSignal?: string;
  logMaxBytes?: number;
  logMaxFiles?: number;
}

/** The annotations' settings, each bad value counting as unset (the node must not fail a pass on one). */
export function readContainerOptions(get: (key: string) => string | undefined): ContainerOptions {
  const out: ContainerOptions = {};
  const lenient = <T>(key: string, parse: (v: string) => T): T | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    try {
      return parse(v);
    } catch {
      return undefined;
    }
  };
  const ulimits = lenient(ULIMITS_ANNOTATION, parseUlimits);
  if (ulimits) out.ulimits = ulimits;
  if (lenient(INIT_ANNOTATION, parseInit)) out.init = true;
  const signal = lenient(STOP_SIGNAL_ANNOTATION, parseStopSignal);
  if (signal) out.stopSignal = signal;
  const size = lenient(LOG_MAX_SIZE_ANNOTATION, parseLogMaxSize);
  if (size !== undefined) out.logMaxBytes = size;
  const files = lenient(LOG_MAX_FILE_ANNOTATION, parseLogMaxFile);
  if (files !== undefined) out.logMaxFiles = files;
  return out;
}

/** The annotation rules annotations.ts adds to its table. */
export const CONTAINER_OPTION_RULES: Readonly<Record<string, (value: string) => void>> = Object.freeze({
  [ULIMITS_ANNOTATION]: (v: string) => void parseUlimits(v),
  [INIT_ANNOTATION]: (v: string) => void parseInit(v),
  [STOP_SIGNAL_ANNOTATION]: (v: string) => void parseStopSignal(v),
  [LOG_MAX_SIZE_ANNOTATION]: (v: string) => void parseLogMaxSize(v),
  [LOG_MAX_FILE_ANNOTATION]: (v: string) => void parseLogMaxFile(v),
});
