/**
 * Keeps an MQTT client subscribed for as long as one connection lasts. A clustered broker can
 * refuse a subscription (SUBACK 0x80) for a few seconds after losing a member — NATS does, while
 * its JetStream elects new leaders — and mqtt.js's own resubscribe neither checks the grants nor
 * tries again: the client stays connected and deaf. So the caller turns mqtt.js's resubscribe
 * off and calls this on every connect: refused or failed subscriptions are retried after
 * `retryMs` until granted or until the connection is no longer current.
 */
import type { MqttClient } from 'mqtt';
import type { Clock } from './clock.js';
import { errorMessage } from './errors.js';

export interface KeepSubscribedOptions {
  clock: Clock;
  /** Topic → QoS wanted. */
  topics: Record<string, { qos: 0 | 1 }>;
  /** Delay before the next try (may grow, e.g. the reconnect backoff). */
  retryMs: () => number;
  /** False once the connection was replaced or the owner stopped: retries end. */
  current: () => boolean;
  onRetry: (reason: string, retryMs: number) => void;
  /** Called once, when every topic is granted. */
  onGranted?: () => void;
}

export function keepSubscribed(client: MqttClient, opts: KeepSubscribedOptions): void {
  client.subscribe(opts.topics, (err, granted) => {
    const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
    if (!err && refused.length === 0) {
      opts.onGranted?.();
      return;
    }
    if (!opts.current() || !client.connected) return;
    const retryMs = opts.retryMs();
    opts.onRetry(err ? errorMessage(err) : `refused: ${refused.join(', ')}`, retryMs);
    opts.clock.setTimeout(() => {
      if (opts.current() && client.connected) keepSubscribed(client, opts);
    }, retryMs);
  });
}
