/**
 * JSON Schema of compose depends_on and healthcheck (compose specification field names). The
 * rules a schema cannot word well (the service exists, no cycle, durations) are checked in
 * compose-order.ts.
 */
import { closed, COMPOSE_SERVICE_NAME, unsupported, type JsonSchema } from './schema-parts.js';

const EXTENSIONS = { '^x-': {} };
const serviceName: JsonSchema = { type: 'string', pattern: COMPOSE_SERVICE_NAME, maxLength: 63, patternErrorMessage: 'must name a service of this file' };

const dependsOn: JsonSchema = {
  description: 'Start order on a node: this service\'s pods wait for the named services\' pods on the same node (docs/manifests.md).',
  type: ['array', 'object'],
  maxItems: 64,
  items: serviceName,
  uniqueItems: true,
  maxProperties: 64,
  propertyNames: serviceName,
  additionalProperties: {
    ...closed(
      {
        condition: {
          enum: ['service_started', 'service_healthy', 'service_completed_successfully'],
          errorMessage: 'must be one of service_started, service_healthy, service_completed_successfully',
        },
        required: { type: 'boolean', description: 'false: a service missing from the file is ignored.' },
        restart: unsupported('not supported: Grove does not restart dependants when a dependency is updated'),
      },
      ['condition'],
    ),
    patternProperties: EXTENSIONS,
  },
};

const duration: JsonSchema = { type: 'string', description: 'A Go duration: 10s, 1m30s.' };

const healthcheck: JsonSchema = {
  ...closed({
    test: {
      description: '["CMD", arg…], ["CMD-SHELL", "command"], "command" (run by /bin/sh -c), or ["NONE"].',
      type: ['string', 'array'],
      items: { type: 'string' },
      minItems: 1,
      maxItems: 1000,
    },
    interval: duration,
    timeout: duration,
    retries: { type: 'integer', minimum: 1, maximum: 1000 },
    start_period: duration,
    start_interval: duration,
    disable: { type: 'boolean' },
  }),
  patternProperties: EXTENSIONS,
};

export function composeStartOrderDefinitions(): Record<string, JsonSchema> {
  return { ComposeDependsOn: dependsOn, ComposeHealthcheck: healthcheck };
}
