/**
 * `grove create secret generic NAME --from-literal=k=v --from-file=[k=]path [--type T]` and
 * `grove create configmap NAME …`, as kubectl does: builds the object locally and applies it.
 * Values are read from the command line or files and never printed.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, GroveError, errorMessage } from '../../../core/errors.js';
import { openClient } from '../../client/open-client.js';
import { writeLine } from '../../io.js';
import { many, onOff, option, type Values } from '../../config/option.js';
import { list, text } from '../../config/units.js';
import type { CliContext } from '../../context.js';
import { argText, type Act } from '../../verb.js';

const KEY_RE = /^[-._a-zA-Z0-9]{1,253}$/;

/** "k=v" → [k, v]; the message names the key, never the value. */
function literal(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new GroveError(ErrorCode.InvalidArgument, '--from-literal: expected KEY=VALUE');
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

async function fromFile(arg: string): Promise<[string, string]> {
  const eq = arg.indexOf('=');
  const [key, path] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [basename(arg), arg];
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new GroveError(ErrorCode.InvalidArgument, `--from-file: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new GroveError(ErrorCode.InvalidArgument, `--from-file: ${path} is not UTF-8 text (binary values are not supported yet)`);
  return [key, text];
}

export async function configData(literals: string[], files: string[]): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  const pairs = [...literals.map(literal), ...(await Promise.all(files.map(fromFile)))];
  for (const [key, value] of pairs) {
    if (!KEY_RE.test(key)) throw new GroveError(ErrorCode.InvalidArgument, `invalid key ${JSON.stringify(key)}: letters, digits, "-", "_" and "." up to 253 characters`);
    if (Object.hasOwn(data, key)) throw new GroveError(ErrorCode.InvalidArgument, `key ${JSON.stringify(key)} given twice`);
    Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return data;
}

const CONFIG_DATA_OPTIONS = {
  fromLiteral: many({ unit: list('key=value', 1024 * 1024), description: 'a key and its value (repeatable)' }),
  fromFile: many({ unit: list('[key=]path'), description: 'a key and the file holding its value; the key defaults to the file name (repeatable)' }),
  immutable: onOff({ description: 'the data can never change afterwards' }),
};

const SECRET_OPTIONS = {
  ...CONFIG_DATA_OPTIONS,
  type: option({ unit: text('type'), description: 'Opaque, kubernetes.io/tls, kubernetes.io/basic-auth or kubernetes.io/dockerconfigjson' }),
};

async function createConfig(ctx: CliContext, kind: 'Secret' | 'ConfigMap', name: string, options: Values<typeof CONFIG_DATA_OPTIONS> & { type?: string | undefined }): Promise<void> {
  const data = await configData(options.fromLiteral, options.fromFile);
  const resource = {
    kind,
    meta: { name, labels: {}, annotations: {} },
    data,
    ...(options.type && options.type !== 'Opaque' ? { type: options.type } : {}),
    ...(options.immutable ? { immutable: true } : {}),
  };
  const client = await openClient(ctx);
  const response = await client.post<{ results: { kind: string; name: string; action: string }[] }>('/v1/apply', { resources: [resource] });
  for (const r of response.results) writeLine(ctx.io.stdout, `${r.kind.toLowerCase()}/${r.name} ${r.action}`);
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
