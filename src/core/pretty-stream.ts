import pinoPretty from 'pino-pretty';

/**
 * Human-oriented log output for a terminal. pino-pretty runs as a synchronous stream in this
 * thread rather than as a pino transport: transports load their target in a worker thread by
 * file path, which a bundled release (one JavaScript file) cannot provide, and the worker costs
 * memory that small boards do not have.
 */
export function prettyStream(): NodeJS.WritableStream {
  return pinoPretty({ destination: 2, sync: true, ignore: 'pid,hostname' });
}
