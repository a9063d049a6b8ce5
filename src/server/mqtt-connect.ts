/** How the control plane reaches its MQTT broker (server.ts), as user grove-server. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ErrorCode, GroveError } from '../core/errors.js';

export type MqttConnect = (url: string, options: IClientOptions) => Promise<MqttClient>;

/**
 * The default connect: waits for the broker as long as it takes (an external broker may come
 * up after us), logging why it is not there yet, but gives up at once when the broker refuses
 * our credentials, since retrying cannot fix that.
 */
export function defaultConnect(log: Logger): MqttConnect {
  return (url, options) =>
    new Promise<MqttClient>((resolve, reject) => {
      const client = mqtt.connect(url, options);
      const onError = (err: Error & { code?: unknown }): void => {
        if (err.code === 4 || err.code === 5) {
          client.off('error', onError);
          client.end(true);
          reject(new GroveError(ErrorCode.PermissionDenied, `MQTT broker ${url} refused the server's credentials`, { cause: err }));
          return;
        }
        log.warn({ url, err: err.message }, 'MQTT broker not reachable yet; retrying');
      };
      client.on('error', onError);
      client.once('connect', () => {
        client.off('error', onError);
        resolve(client);
      });
    });
}
