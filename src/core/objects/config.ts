/**
 * v1 ConfigMap and Secret. Secret values are held as Kubernetes holds them: base64 in `data`
 * (`stringData` is write-only input the server folds into `data`). How they are sealed at rest
 * and sent to nodes is the server's business (docs/security.md).
 */
import { Type, type Static } from '@sinclair/typebox';
import { closed, CONFIG_KEY, CONFIG_KEY_MESSAGE, pattern, refTo, stringEnum, stringMap } from './kit.js';
import { ObjectMeta, typeMeta } from './meta.js';
import { MAX_CONFIG_KEYS, MAX_CONFIG_OBJECT_BYTES } from '../wire-limits.js';

/** Kubernetes' limit for one ConfigMap or Secret, keys and values together (a rule in code: rules.ts). */
export { MAX_CONFIG_KEYS, MAX_CONFIG_OBJECT_BYTES };

/** The Kubernetes Secret types Grove accepts (absent = Opaque). */
export const SECRET_TYPES = ['Opaque', 'kubernetes.io/tls', 'kubernetes.io/basic-auth', 'kubernetes.io/dockerconfigjson'] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

const keys = () => pattern(CONFIG_KEY, CONFIG_KEY_MESSAGE, { maxLength: 253 });

/**
 * Base64's alphabet, line breaks allowed (Go's decoder skips them; long values get wrapped in
 * YAML). Only the characters: the padding rule is checked in code (config-rules.ts), because a
 * regular expression that says it backtracks over megabyte values.
 */
export const BASE64_CHARS = '^[A-Za-z0-9+/=\\r\\n]*$';

const textMap = () => stringMap(Type.String({ maxLength: MAX_CONFIG_OBJECT_BYTES }), { keys: keys(), maxProperties: MAX_CONFIG_KEYS });

/** Base64 values (Secret data, ConfigMap binaryData), decoded within the object's size limit. */
const base64Map = () =>
  stringMap(pattern(BASE64_CHARS, 'is not valid base64 (put plain text under stringData)', { maxLength: Math.ceil(MAX_CONFIG_OBJECT_BYTES / 3) * 4 + 64 * 1024 }), {
    keys: keys(),
    maxProperties: MAX_CONFIG_KEYS,
  });

export const ConfigMap = closed(
  {
    ...typeMeta('v1', 'ConfigMap'),
    metadata: refTo(ObjectMeta),
    data: Type.Optional(textMap()),
    /** Bytes, base64 as in Kubernetes: mounted as the bytes they are (never in env); keys unique across data and binaryData (rules.ts). */
    binaryData: Type.Optional(base64Map()),
    /** The data can no longer change (delete and recreate instead). */
    immutable: Type.Optional(Type.Boolean()),
  },
  { $id: 'ConfigMap' },
);
export type ConfigMap = Static<typeof ConfigMap>;

export const Secret = closed(
  {
    ...typeMeta('v1', 'Secret'),
    metadata: refTo(ObjectMeta),
    type: Type.Optional(stringEnum(SECRET_TYPES, { default: 'Opaque', errorMessage: `must be one of ${SECRET_TYPES.join(', ')}` })),
    data: Type.Optional(base64Map()),
    /** Plain text, folded into `data` by the server (it wins over data for the same key, as in Kubernetes). */
    stringData: Type.Optional(textMap()),
    immutable: Type.Optional(Type.Boolean()),
  },
  { $id: 'Secret' },
);
export type Secret = Static<typeof Secret>;
