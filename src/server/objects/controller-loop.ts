/**
 * Runs the controllers (src/server/controllers/controller.ts): a pass reads one snapshot of every
 * object, asks each controller for its changes and commits them all in ONE commit through the
 * ObjectStore. Passes run after object commits (debounced, so a burst of changes is one pass),
 * at the earliest time a controller asked to be woken, and on nudge() (a node report that
 * changes what a controller decides). A pass whose commit conflicts (a resourceVersion gone
 * stale) is run again on a fresh snapshot; when the combined commit keeps failing, each
 * controller's changes are committed on their own so one bad change does not stop the others.
 * A pass that wants more changes than one commit may hold (10 DaemonSets applied at once on a
 * 1,000-node fleet: 10,000 pods) commits the first ones and runs again at once: the controllers
 * decide the rest from the objects as they are then, so every pass makes progress.
 *
 * Leader-ready: everything a pass needs is in the store, so exactly one ControllerLoop runs per
 * cluster; the server starts it, and a leader election (issue 20) will start and stop it.
 *
 * A chain of passes (a Deployment → ReplicaSet → Pod → binding: one pass per step, run back to
 * back) reads the store once: the next pass of the chain decides on the last one's snapshot
 * carried forward by the object writes committed since (object-snapshot.ts withWrites), its own
 * included. A commit that wrote object keys outside the ObjectStore, a conflict, or the end of
 * the chain drops the carried snapshot: the next pass reads the store again.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { ErrorCode, errorMessage, isGroveError } from '../../core/errors.js';
import type { ObjectChange } from '../../core/objects/changes.js';
import { NAME_SUFFIX_ALPHABET, NAME_SUFFIX_LENGTH, type Controller, type ControllerSnapshot, type NodeReport, type ObjectsByKind } from '../controllers/controller.js';
import { MAX_CHANGES_PER_COMMIT, type ObjectCommit, type ObjectStore, type ObjectWrite } from './object-store.js';
import { readObjects, withWrites } from './object-snapshot.js';

export const DEFAULT_DEBOUNCE_MS = 50;
/**
 * Passes run back to back (no debounce) after a pass whose own commit changed objects, this many
 * in a row: a Deployment → ReplicaSet → Pod → binding chain is one pass per step, and a debounce
 * between the steps only adds latency. A controller that changes something on every pass (a
 * bug) falls back to one pass per debounce after this many.
 */
export const MAX_IMMEDIATE_FOLLOW_UPS = 8;
/** Passes run again at once after a conflict, this many times, before waiting for the next change. */
export const MAX_CONFLICT_RETRIES = 3;

export interface ControllerLoopOptions {
  objects: ObjectStore;
  controllers: readonly Controller[];
  clock: Clock;
  logger: Logger;
  /** The nodes' last reports (the status cache's); none by default. */
  reports?: () => ReadonlyMap<string, NodeReport>;
  /** Generated name suffixes; random from Kubernetes' alphabet by default (tests inject). */
  randomSuffix?: () => string;
  debounceMs?: number;
  /** Changes in one pass's commit (the ObjectStore's limit by default; tests make it small). */
  maxChangesPerCommit?: number;
  /**
   * Told of each controller's changes once they are committed, with the snapshot they were
   * decided on (the server derives events from them: src/server/events/controller-events.ts).
   */
  onCommitted?: (controller: string, snapshot: ControllerSnapshot, changes: readonly ObjectChange[]) => void;
}

/** 5 random characters of Kubernetes' name-suffix alphabet. */
export function randomNameSuffix(): string {
  let out = '';
  for (let i = 0; i < NAME_SUFFIX_LENGTH; i++) out += NAME_SUFFIX_ALPHABET[randomInt(NAME_SUFFIX_ALPHABET.length)];
  return out;
}

interface Wanted {
  controller: string;
  changes: ObjectChange[];
}

/**
 * The first `max` changes of a pass, in the controllers' order (a controller cut short keeps its
 * first changes), and whether any were left for the next pass.
 */
export function fitToCommit(wanted: readonly Wanted[], max: number): { fitted: Wanted[]; deferred: number } {
  const fitted: Wanted[] = [];
  let room = max;
  let deferred = 0;
  for (const w of wanted) {
    const taken = w.changes.length <= room ? w.changes : w.changes.slice(0, room);
    if (taken.length) fitted.push(taken === w.changes ? w : { controller: w.controller, changes: taken });
    room -= taken.length;
    deferred += w.changes.length - taken.length;
  }
  return { fitted, deferred };
}

export interface PassResult {
  /** Revision after the pass (unchanged when nothing was written). */
  revision: number;
  /** Changes committed (including no-ops the store dropped). */
  changes: number;
  /** Earliest wake-up asked for, if any. */
  wakeAt?: number;
}

export class ControllerLoop {
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private wakeTimer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private unwatch: (() => void) | undefined;
  private started = false;
  private readonly log: Logger;
  private readonly debounceMs: number;
  /** When the last pass ended: a nudge after a quiet debounce runs a pass at once. */
  private lastPassEnd = Number.NEGATIVE_INFINITY;
  /** Passes run back to back after their predecessor's own commit (MAX_IMMEDIATE_FOLLOW_UPS). */
  private followUps = 0;
  /** The last pass's objects, kept while its chain goes on (see the header). */
  private carried: ObjectsByKind | undefined;
  /** Object writes committed since `carried` was read; undefined: not recording. */
  private journal: ObjectWrite[] | undefined;
  /** A commit wrote object keys the journal cannot replay: the next pass reads the store. */
  private journalBroken = false;

  constructor(private readonly opts: ControllerLoopOptions) {
    this.log = opts.logger.child({ component: 'controller-loop' });
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  }

  /** Starts watching the objects and runs a first pass soon. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unwatch = this.opts.objects.watchChanges((commit) => {
      this.record(commit);
      this.nudge();
    });
    this.nudge();
  }

  /** Stops: no pass starts after this resolves. */
  async stop(): Promise<void> {
    this.started = false;
    this.unwatch?.();
    this.unwatch = undefined;
    this.clearTimer();
    if (this.wakeTimer) this.opts.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    await this.idle();
    this.dropCarried();
  }

  /**
   * Asks for a pass: at once (a zero timer, so changes of the same tick make one pass) when no
   * pass ended within the debounce, else a debounce after the last one; several nudges make one
   * pass. The first change after a quiet spell (an apply, a pod report) is not delayed, while a
   * storm of changes still gets at most one pass per debounce.
   */
  nudge(): void {
    if (!this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(Math.max(this.opts.clock.now(), this.lastPassEnd + this.debounceMs));
  }

  /**
   * Resolves when no pass is running (tests; the target publisher, whose snapshot would be stale
   * by the running pass's commit). Passes due later, the next step of a chain included, are not
   * waited for: a node's target goes out as soon as its pods are bound.
   */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** One pass now: snapshot, every controller, one commit (tests call this directly). */
  async runOnce(): Promise<PassResult> {
    while (this.running) await this.running;
    let result: PassResult | undefined;
    const before = this.opts.objects.store.revision();
    const pass = (async () => {
      result = await this.passWithRetries();
    })();
    this.running = pass.finally(() => {
      this.running = undefined;
      this.lastPassEnd = this.opts.clock.now();
      if (this.again) {
        this.again = false;
        // The pass's own commit changed objects the next step decides on: run it now.
        if (this.started && result !== undefined && result.revision > before && this.followUps < MAX_IMMEDIATE_FOLLOW_UPS) {
          this.followUps++;
          this.schedule(this.opts.clock.now());
        } else this.nudge();
      } else this.followUps = 0;
      // The chain goes on only with a pass due at once; any other pass reads the store afresh.
      if (!this.dueAtOnce()) this.dropCarried();
    });
    await this.running;
    return result!;
  }

  private schedule(at: number): void {
    if (at >= this.timerAt) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      if (this.started) void this.runOnce().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'controller pass failed'));
    }, at - this.opts.clock.now());
  }

  private dueAtOnce(): boolean {
    return this.timer !== undefined && this.timerAt <= this.opts.clock.now();
  }

  /** Journals object writes while a snapshot is carried (or being read). */
  private record(commit: ObjectCommit): void {
    if (!this.journal) return;
    if (commit.unknown.length > 0) this.journalBroken = true;
    else this.journal.push(...commit.writes);
  }

  private dropCarried(): void {
    this.carried = undefined;
    this.journal = undefined;
    this.journalBroken = false;
  }

  private clearTimer(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** The carried snapshot with the writes since (a chain's next pass), or the store read afresh. */
  private async snapshot(): Promise<ControllerSnapshot> {
    let objects: ObjectsByKind;
    if (this.carried && this.journal && !this.journalBroken) {
      objects = withWrites(this.carried, this.journal);
      this.journal = [];
    } else {
      // Recording starts before the read: a write landing during it is replayed on top (a
      // write replayed over its own result changes nothing).
      this.journal = [];
      this.journalBroken = false;
      objects = await readObjects(this.opts.objects);
    }
    this.carried = objects;
    return {
      objects,
      reports: this.opts.reports?.() ?? new Map(),
      now: this.opts.clock.now(),
      randomSuffix: this.opts.randomSuffix ?? randomNameSuffix,
    };
  }

  private async passWithRetries(): Promise<PassResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pass(attempt >= MAX_CONFLICT_RETRIES);
      } catch (err) {
        // Whatever failed, the retry (or the next pass) decides on objects read afresh.
        this.dropCarried();
        if (!isGroveError(err, ErrorCode.Conflict) || attempt >= MAX_CONFLICT_RETRIES) throw err;
        this.log.debug({ err: errorMessage(err), attempt }, 'controller pass conflicted; running it again on fresh objects');
      }
    }
  }

  /** `separately`: commit each controller's changes on its own (after repeated failures). */
  private async pass(separately: boolean): Promise<PassResult> {
    const snapshot = await this.snapshot();
    const decided: Wanted[] = [];
    let wakeAt: number | undefined;
    for (const controller of this.opts.controllers) {
      try {
        const r = controller.reconcile(snapshot);
        if (r.changes.length) decided.push({ controller: controller.name, changes: r.changes });
        // A time not after this pass's `now` has been handled by this pass: waking for it again
        // would spin (a controller returning it every time).
        if (r.wakeAt !== undefined && r.wakeAt > snapshot.now && (wakeAt === undefined || r.wakeAt < wakeAt)) wakeAt = r.wakeAt;
      } catch (err) {
        // A controller that throws is a bug: the others still run.
        this.log.error({ controller: controller.name, err: errorMessage(err) }, 'controller failed');
      }
    }
    this.wakeUpAt(wakeAt);
    const { fitted: wanted, deferred } = fitToCommit(decided, this.opts.maxChangesPerCommit ?? MAX_CHANGES_PER_COMMIT);
    if (deferred > 0) {
      // The rest is decided again by the next pass, on the objects this one committed.
      this.log.info({ deferred }, 'more controller changes than one commit holds: the rest in the next pass');
      this.again = true;
    }
    const all = wanted.flatMap((w) => w.changes);
    if (all.length === 0) return { revision: this.opts.objects.store.revision(), changes: 0, ...(wakeAt !== undefined ? { wakeAt } : {}) };
    if (!separately) {
      try {
        const { revision } = await this.opts.objects.commit(all);
        for (const w of wanted) this.committed(w.controller, snapshot, w.changes);
        return { revision, changes: all.length, ...(wakeAt !== undefined ? { wakeAt } : {}) };
      } catch (err) {
        if (isGroveError(err, ErrorCode.Conflict) || wanted.length === 1) throw err;
        this.log.warn({ err: errorMessage(err) }, 'controller changes refused; committing each controller on its own');
      }
    }
    let revision = this.opts.objects.store.revision();
    for (const w of wanted) {
      try {
        revision = (await this.opts.objects.commit(w.changes)).revision;
        this.committed(w.controller, snapshot, w.changes);
      } catch (err) {
        this.log.error({ controller: w.controller, err: errorMessage(err) }, 'controller changes refused');
      }
    }
    return { revision, changes: all.length, ...(wakeAt !== undefined ? { wakeAt } : {}) };
  }

  private committed(controller: string, snapshot: ControllerSnapshot, changes: readonly ObjectChange[]): void {
    try {
      this.opts.onCommitted?.(controller, snapshot, changes);
    } catch (err) {
      // What listens (events) must never fail a pass that is already committed.
      this.log.error({ controller, err: errorMessage(err) }, 'a listener of committed changes failed');
    }
  }

  private wakeUpAt(at: number | undefined): void {
    if (this.wakeTimer) this.opts.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (at === undefined || !this.started) return;
    this.wakeTimer = this.opts.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.nudge();
    }, Math.max(0, at - this.opts.clock.now()));
  }
}
