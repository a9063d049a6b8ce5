/**
 * Kubernetes' name syntaxes (k8s.io/apimachinery/pkg/util/validation) as JSON Schema patterns,
 * with the messages Grove prints for them. Plain strings (no schema library), shared by the
 * object schemas (kit.ts) and the manifest schema (manifests/schema-parts.ts).
 */
const LABEL_PART = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
export const DNS_LABEL = `^${LABEL_PART}$`;
export const DNS_SUBDOMAIN = `^${LABEL_PART}(?:\\.${LABEL_PART})*$`;
const QUALIFIED_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
export const LABEL_KEY = `^(?:${LABEL_PART}(?:\\.${LABEL_PART})*/)?${QUALIFIED_NAME}$`;
export const LABEL_VALUE = '^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
export const CONFIG_KEY = '^[-._a-zA-Z0-9]+$';
/** "0%" … "100%" (maxSurge, maxUnavailable). */
export const PERCENT = '^(100|[1-9]?[0-9])%$';

export const DNS_LABEL_MESSAGE =
  "must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
export const DNS_SUBDOMAIN_MESSAGE =
  "must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit";
export const CONFIG_KEY_MESSAGE = 'must be letters, digits, -, _ or .';
export const LABEL_KEY_MESSAGE = 'must be a label key: [DNS-subdomain prefix/]name, the name at most 63 letters, digits, -, _ or .';
export const LABEL_VALUE_MESSAGE = 'must be a label value: at most 63 letters, digits, -, _ or ., starting and ending with a letter or digit';

/**
 * The DNS label the objects of a compose service are named by: compose allows '_', '.' and
 * capitals in service names (`home_assistant`), Kubernetes names do not. The compose name
 * itself stays in the com.docker.compose.service label; whoever goes from that label to the
 * service's objects (the node's compose isolation) maps it through here.
 */
export function composeObjectName(name: string): string {
  if (new RegExp(DNS_LABEL).test(name) && name.length <= 63) return name;
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}
