/**
 * `grove create secret generic NAME --from-literal=k=v --from-file=[k=]path [--type T]` and
 * `grove create configmap NAME …`, as kubectl does: builds the Secret or ConfigMap object
 * locally and applies it (so it creates or updates; --dry-run=client -o yaml prints it instead,
 * the usual way to write a Secret's manifest). Values are never printed otherwise.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, GroveError, errorMessage } from '../../../core/errors.js';
import type { AnyObject } from '../../../core/objects/changes.js';
import { many, onOff, option, type Values } from '../../config/option.js';
import { list, text } from '../../config/units.js';
import type { CliContext } from '../../context.js';
import { argText, type Act } from '../../verb.js';
import { SEND_OPTIONS, sendObjects } from './apply.js';
import { NAMESPACE_OPTION, namespaceOf } from './k8s/scope-options.js';

const KEY_RE = /^[-._a-zA-Z0-9]{1,253}$/;

/** "k=v" → [k, v]; the message names the key, never the value. */
function literal(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new GroveError(ErrorCode.InvalidArgument, '--from-literal: expected KEY=VALUE');
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

/** A file's bytes, refused unless UTF-8 text (the server stores text values only, Secrets too). */
async function fromFile(arg: string): Promise<[string, Buffer]> {
  const eq = arg.indexOf('=');
  const [key, path] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [basename(arg), arg];
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new GroveError(ErrorCode.InvalidArgument, `--from-file: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  if (!Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)) throw new GroveError(ErrorCode.InvalidArgument, `--from-file: ${path} is not UTF-8 text (binary values are not supported yet)`);
  return [key, bytes];
}

/** The keys and values of --from-literal and --from-file, each key once. */
export async function configData(literals: string[], files: string[]): Promise<Record<string, Buffer>> {
  const data: Record<string, Buffer> = {};
  const pairs: [string, Buffer][] = [...literals.map(literal).map(([k, v]): [string, Buffer] => [k, Buffer.from(v, 'utf8')]), ...(await Promise.all(files.map(fromFile)))];
  for (const [key, value] of pairs) {
    if (!KEY_RE.test(key)) throw new GroveError(ErrorCode.InvalidArgument, `invalid key ${JSON.stringify(key)}: letters, digits, "-", "_" and "." up to 253 characters`);
    if (Object.hasOwn(data, key)) throw new GroveError(ErrorCode.InvalidArgument, `key ${JSON.stringify(key)} given twice`);
    Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return data;
}

function mapValues(data: Record<string, Buffer>, encode: (b: Buffer) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, encode(v)]));
}

/** The object `grove create` sends: a Secret's values base64 as Kubernetes stores them, a ConfigMap's as text. */
export function configObject(kind: 'Secret' | 'ConfigMap', name: string, namespace: string, data: Record<string, Buffer>, extra: { type?: string | undefined; immutable?: boolean }): AnyObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: { name, namespace },
    data: mapValues(data, (b) => b.toString(kind === 'Secret' ? 'base64' : 'utf8')),
    ...(kind === 'Secret' && extra.type && extra.type !== 'Opaque' ? { type: extra.type } : {}),
    ...(extra.immutable ? { immutable: true } : {}),
  } as unknown as AnyObject;
}

const CONFIG_DATA_OPTIONS = {
  fromLiteral: many({ unit: list('key=value', 1024 * 1024), description: 'a key and its value (repeatable)' }),
  fromFile: many({ unit: list('[key=]path'), description: 'a key and the file holding its value; the key defaults to the file name (repeatable)' }),
  immutable: onOff({ description: 'the data can never change afterwards' }),
  namespace: NAMESPACE_OPTION,
  ...SEND_OPTIONS,
};

const SECRET_OPTIONS = {
  ...CONFIG_DATA_OPTIONS,
  type: option({ unit: text('type'), description: 'Opaque, kubernetes.io/tls, kubernetes.io/basic-auth or kubernetes.io/dockerconfigjson' }),
};

async function createConfig(ctx: CliContext, kind: 'Secret' | 'ConfigMap', name: string, options: Values<typeof CONFIG_DATA_OPTIONS> & { type?: string | undefined }): Promise<void> {
  const data = await configData(options.fromLiteral, options.fromFile);
  await sendObjects(ctx, [configObject(kind, name, namespaceOf(options.namespace), data, options)], options);
}

export function registerCreate(program: Command, act: Act): void {
  const create = program.command('create').description('create a Secret or ConfigMap from literals and files');
  act(
    create
      .command('secret')
      .description('create or update a Secret: grove create secret generic NAME --from-literal=k=v --from-file=[k=]path')
      .argument('<type>', 'generic (the only form, as kubectl names it)')
      .argument('<name>'),
    SECRET_OPTIONS,
    async (ctx, [form, name], options) => {
      // `create secret generic NAME`: the form word comes first, as in kubectl.
      if (form !== 'generic') throw new GroveError(ErrorCode.InvalidArgument, `create secret: "${String(form)}" is not supported (use generic)`);
      await createConfig(ctx, 'Secret', argText(name, 'name'), options);
    },
  );
  act(
    create.command('configmap').description('create or update a ConfigMap from literals and files').argument('<name>'),
    CONFIG_DATA_OPTIONS,
    async (ctx, [name], options) => createConfig(ctx, 'ConfigMap', argText(name, 'name'), options),
  );
}
