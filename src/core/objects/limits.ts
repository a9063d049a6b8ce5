/**
 * Bounds Grove adds where Kubernetes has none (or has larger ones): they keep messages, timers
 * and wire values sane on a small node. Plain constants, shared by the object schemas and the
 * schema-1 wire decoders, so both enforce one set of numbers.
 */

export const JOB_LIMITS = Object.freeze({
  completions: 1000,
  parallelism: 100,
  backoffLimit: 1000,
  /** A year: longer deadlines and TTLs are indistinguishable from none on an edge node. */
  seconds: 366 * 24 * 3600,
  historyLimit: 100,
  schedule: 128,
  timeZone: 64,
  /** A week: the node looks back this far for a missed firing (the look-back walks the schedule minute by minute). */
  startingDeadlineSeconds: 7 * 24 * 3600,
});

/** SIGTERM → SIGKILL delay bound: an hour-long stop is already extreme on a node. */
export const MAX_GRACE_SECONDS = 3600;

/** node-cron syntax characters; whether the expression parses is checked where it is evaluated. */
export const CRON_SCHEDULE = '^[0-9A-Za-z*/,\\-?# ]+$';
export const TIME_ZONE = '^[A-Za-z0-9_+\\-/]+$';

export const VOLUME_LIMITS = Object.freeze({
  volumes: 64,
  mounts: 64,
  items: 256,
  envFrom: 64,
  path: 4096,
  /** emptyDir sizeLimit: 1 TiB is far beyond any edge node; larger is a typo. */
  sizeBytes: 2 ** 40,
  prefix: 253,
});

/** Probe timings and thresholds. */
export const PROBE_LIMITS = Object.freeze({ seconds: 3600, threshold: 1000 });
