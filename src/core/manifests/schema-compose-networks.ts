/**
 * JSON Schema of compose networks: the file's top-level `networks:` and a service's `networks:`
 * (a list of names, or names mapped to {aliases}). What Grove cannot do is refused by name with
 * the reason (docs/networking.md#compose-networking): external networks, static addresses,
 * drivers other than bridge, IPAM and driver options.
 */
import { closed, unsupported, unsupportedFields, type JsonSchema } from './schema-parts.js';

const EXTENSIONS = { '^x-': {} };
/** A closed mapping that may also be null (`back:` with nothing under it), so errors name the field inside, not "must be empty". */
const open = (fields: Record<string, JsonSchema>): JsonSchema => ({ ...closed(fields), type: ['object', 'null'], patternProperties: EXTENSIONS });

const STATIC_ADDRESS = 'not supported: pods get their address from their node\'s pod CIDR; reach the service by its name';

export function composeNetworkDefinitions(): Record<string, JsonSchema> {
  return {
    ComposeNetwork: open({
      driver: { const: 'bridge', errorMessage: 'must be bridge: a project network is a scope inside the cluster\'s pod network' },
      internal: { type: 'boolean' },
      // Docker's network name; Grove's scope is the project's namespace, so it only labels the pods.
      name: { type: 'string', minLength: 1, maxLength: 63 },
      labels: { type: ['array', 'object'] },
      attachable: { type: 'boolean' },
      // `external: false` is compose's default, written out by many files.
      external: { const: false, errorMessage: 'is not supported: a project network exists only inside its project (its namespace); reach another project\'s service by name (`<service>.<project>`) instead' },
      ipam: unsupported(STATIC_ADDRESS),
      enable_ipv6: unsupported('not supported: the pod network is IPv4 only'),
      ...unsupportedFields(['driver_opts', 'enable_ipv4']),
    }),
    ComposeServiceNetworks: {
      type: ['array', 'object'],
      maxItems: 32,
      maxProperties: 32,
      items: { type: 'string', minLength: 1 },
      additionalProperties: open({
            aliases: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1 } },
            priority: { type: 'integer' },
            ipv4_address: unsupported(STATIC_ADDRESS),
            ipv6_address: unsupported(STATIC_ADDRESS),
            link_local_ips: unsupported(STATIC_ADDRESS),
            mac_address: unsupported('not supported: pods get their MAC from their node'),
        ...unsupportedFields(['driver_opts', 'gw_priority', 'interface_name']),
      }),
    },
  };
}
