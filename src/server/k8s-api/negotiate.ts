/**
 * Content negotiation for the Kubernetes paths, as the API server does it from the Accept
 * header: JSON only (never protobuf or YAML), with the JSON variants clients ask for by media
 * type parameters — `as=Table;g=meta.k8s.io;v=v1` (kubectl get's tables),
 * `as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2` (aggregated discovery) — and the
 * protobuf OpenAPI v2 document kubectl's client-side validation reads. The client's ranges are
 * tried in its order of preference (q, then as written); the first one the route can answer
 * wins, and a request that accepts none of them gets 406 with a Status. Pure.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';

/** One media range of an Accept header: `type/subtype` and its parameters (q removed). */
export interface MediaRange {
  type: string;
  subtype: string;
  params: Readonly<Record<string, string>>;
  q: number;
}

/** What a route can answer in, besides plain JSON. */
export type Representation =
  | { kind: 'json' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'discovery'; version: 'v2' | 'v2beta1' }
  | { kind: 'openapi-v2-protobuf' };

export type RepresentationKind = Representation['kind'];

/** Accept headers longer than this are refused (a real client's is under 300 bytes). */
export const MAX_ACCEPT_BYTES = 4096;
const MAX_RANGES = 32;

/** How kubectl asks for the protobuf OpenAPI v2 document. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * How the answer is labelled: the same type without the '@', which Go's media type parser
 * refuses (client-go parses every answer's Content-Type), as the API server labels it.
 */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

function notAcceptable(accept: string, offered: string): GroveError {
  const shown = accept.length > 200 ? `${accept.slice(0, 200)}…` : accept;
  return new GroveError(ErrorCode.NotAcceptable, `only the following media types are accepted: ${offered} (the request accepts ${shown})`);
}

/** The ranges of an Accept header, most preferred first (absent or empty: anything). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [{ type: '*', subtype: '*', params: {}, q: 1 }];
  if (header.length > MAX_ACCEPT_BYTES) throw new GroveError(ErrorCode.InvalidArgument, `Accept header longer than ${MAX_ACCEPT_BYTES} bytes`);
  const ranges: MediaRange[] = [];
  for (const part of header.split(',').slice(0, MAX_RANGES)) {
    const [mime, ...rawParams] = part.split(';').map((s) => s.trim());
    const slash = mime ? mime.indexOf('/') : -1;
    if (!mime || slash <= 0 || slash === mime.length - 1) continue; // unparseable: ignored, as Go's mime parser skips it
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq <= 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'q') q = Number.isFinite(Number(value)) ? Number(value) : 0;
      else params[key] = value;
    }
    ranges.push({ type: mime.slice(0, slash).toLowerCase(), subtype: mime.slice(slash + 1).toLowerCase(), params, q });
  }
  // Stable: equal q keeps the written order, which is how clients rank their alternatives.
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q);
}

function isJson(r: MediaRange): boolean {
  return (r.type === 'application' || r.type === '*') && (r.subtype === 'json' || r.subtype === '*');
}

/** The representation `range` asks for among `offers`, or undefined. */
function match(range: MediaRange, offers: readonly RepresentationKind[]): Representation | undefined {
  const { as, g, v } = range.params;
  if (range.type === 'application' && (range.subtype === 'com.github.proto-openapi.spec.v2@v1.0+protobuf' || range.subtype === 'com.github.proto-openapi.spec.v2.v1.0+protobuf')) {
    return offers.includes('openapi-v2-protobuf') ? { kind: 'openapi-v2-protobuf' } : undefined;
  }
  if (!isJson(range)) return undefined;
  if (as === undefined) return offers.includes('json') ? { kind: 'json' } : undefined;
  if (as === 'Table' && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) return offers.includes('table') ? { kind: 'table', version: v } : undefined;
  if (as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io' && (v === 'v2' || v === 'v2beta1') && range.params.profile === undefined) {
    return offers.includes('discovery') ? { kind: 'discovery', version: v } : undefined;
  }
  return undefined; // PartialObjectMetadata and other views Grove does not serve
}

const MEDIA_TYPE_NAMES: Record<RepresentationKind, string> = {
  json: 'application/json',
  table: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  discovery: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'openapi-v2-protobuf': OPENAPI_V2_PROTOBUF,
};

/** The representation to answer in: the client's most preferred one among `offers`; 406 when none. */
export function negotiate(accept: string | undefined, offers: readonly RepresentationKind[]): Representation {
  for (const range of parseAccept(accept)) {
    const found = match(range, offers);
    if (found) return found;
  }
  throw notAcceptable(accept ?? '', offers.map((o) => MEDIA_TYPE_NAMES[o]).join(', '));
}

/**
 * Whether the request accepts JSON in any form: every route under /api and /apis answers JSON,
 * so a client that takes only protobuf or YAML is refused before the route runs (406).
 */
export function requireJson(accept: string | undefined): void {
  const ranges = parseAccept(accept);
  if (!ranges.some(isJson)) throw notAcceptable(accept ?? '', 'application/json');
}

/** The Content-Type header of an answer in `representation`. */
export function contentTypeOf(representation: Representation): string {
  switch (representation.kind) {
    case 'json':
      return 'application/json';
    case 'table':
      return `application/json;as=Table;v=${representation.version};g=meta.k8s.io`;
    case 'discovery':
      // client-go reads the parameters in this order (g, v, as) to recognise aggregated discovery.
      return `application/json;g=apidiscovery.k8s.io;v=${representation.version};as=APIGroupDiscoveryList`;
    case 'openapi-v2-protobuf':
      return OPENAPI_V2_PROTOBUF_CONTENT_TYPE;
  }
}
