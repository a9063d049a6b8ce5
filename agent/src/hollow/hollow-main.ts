/**
 * HOLLOW NODES, one process of them — for scale benches only. Started by the fan-out bench with
 * an IPC channel; its config is the first message (HollowFleetOptions without the logger).
 * Several such processes split a large fleet (one process holds ~20,000 sockets at most here,
 * and uses one CPU).
 *
 * Messages in:  {type:'start', config} | {type:'join'} | {type:'wait', app, notHash?, timeoutMs} | {type:'stop'}
 * Messages out: {type:'ready'} (after start) | {type:'joined', outcomes}
 *               | {type:'converged', hash | error, times, missing, rssBytes}
 *               | {type:'error', message}
 */
import { createLogger } from '../../../src/core/logger.js';
import { HollowFleet, type HollowFleetOptions } from './hollow-fleet.js';

type Incoming =
  | { type: 'start'; config: Omit<HollowFleetOptions, 'logger'> }
  | { type: 'join' }
  | { type: 'wait'; app: string; notHash?: string; timeoutMs: number }
  | { type: 'stop' };

function send(message: unknown): void {
  process.send?.(message);
}

if (!process.send) {
  process.stderr.write('hollow-main runs only as a child of the fan-out bench (with an IPC channel)\n');
  process.exit(2);
}
let fleet: HollowFleet | undefined;

process.on('message', (message: Incoming) => {
  const run = async (): Promise<void> => {
    if (message.type === 'start') {
      // One logger for the whole fleet; warnings only, so thousands of nodes do not flood the pipe.
      fleet = new HollowFleet({ ...message.config, logger: createLogger({ level: 'warn' }) });
      send({ type: 'ready' });
      return;
    }
    if (!fleet) throw new Error(`${message.type} before start`);
    if (message.type === 'join') {
      send({ type: 'joined', outcomes: await fleet.joinAndStart() });
    } else if (message.type === 'wait') {
      // A timeout is a result too: the bench reports how many nodes never got there.
      const outcome = await fleet.waitForApp(message.app, message.notHash, message.timeoutMs).then(
        (hash) => ({ hash }),
        (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
      );
      const times = fleet.joined().map((n) => n.convergedAt(message.app, message.notHash)).filter((t): t is number => t !== undefined);
      send({ type: 'converged', ...outcome, times, missing: fleet.pending(message.app, message.notHash).length, rssBytes: process.memoryUsage.rss() });
    } else if (message.type === 'stop') {
      await fleet.stop();
      process.disconnect();
      process.exit(0);
    }
  };
  run().catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
