/**
 * JSON Schema of Kubernetes probes (livenessProbe, readinessProbe, startupProbe). The rules a
 * schema cannot say with a useful message (exactly one handler, named ports, successThreshold of
 * liveness and startup probes) are checked when translating (k8s-probes.ts).
 */
import { closed, ref, stringList, unsupported, type JsonSchema } from './schema-parts.js';

import { PROBE_LIMITS } from '../objects/limits.js';

/** Upper bounds Grove adds (Kubernetes has none): they keep timers and wire values sane. */
export { PROBE_LIMITS };

const seconds = (minimum: number): JsonSchema => ({ type: 'integer', minimum, maximum: PROBE_LIMITS.seconds });
const threshold: JsonSchema = { type: 'integer', minimum: 1, maximum: PROBE_LIMITS.threshold };
// Kubernetes ports are int-or-string; a string (a named port) is refused in code with its reason.
const port: JsonSchema = { type: ['integer', 'string'], minimum: 1, maximum: 65535 };

export function probeDefinitions(): Record<string, JsonSchema> {
  return {
    Probe: closed({
      exec: closed({ command: { ...stringList, minItems: 1 } }, ['command']),
      httpGet: closed(
        {
          path: { type: 'string' },
          port,
          host: { type: 'string', minLength: 1 },
          scheme: { const: 'HTTP', errorMessage: 'must be HTTP: HTTPS probes are not supported yet' },
          httpHeaders: {
            type: 'array',
            items: closed({ name: { type: 'string', minLength: 1 }, value: { type: 'string' } }, ['name', 'value']),
          },
        },
        ['port'],
      ),
      tcpSocket: closed({ port, host: { type: 'string', minLength: 1 } }, ['port']),
      grpc: unsupported(),
      initialDelaySeconds: seconds(0),
      periodSeconds: seconds(1),
      timeoutSeconds: seconds(1),
      successThreshold: threshold,
      failureThreshold: threshold,
      terminationGracePeriodSeconds: unsupported(),
    }),
  };
}

export const probeRef = ref('Probe');
