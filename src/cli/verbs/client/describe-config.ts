import { writeLine, type CliIO } from '../../io.js';
import { labelsText, type ConfigMapView, type SecretView } from './views.js';

/**
 * `grove describe secret|configmap NAME`: names, type and keys with their sizes in bytes. A
 * Secret is fetched without values (the server answers sizes), so nothing secret is printed.
 */
export function describeConfigObject(io: CliIO, kind: 'Secret' | 'ConfigMap', o: SecretView | ConfigMapView): void {
  const field = (name: string, value: string | undefined): void => writeLine(io.stdout, `${(name + ':').padEnd(18)}${value ?? '<none>'}`);
  field('Name', o.meta.name);
  if (kind === 'Secret') field('Type', (o as SecretView).type ?? 'Opaque');
  field('Labels', labelsText(o.meta.labels));
  field('Immutable', o.immutable ? 'true' : 'false');
  field('Created', o.meta.createdAt);
  field('Updated', o.meta.updatedAt);
  writeLine(io.stdout, 'Data:');
  const entries = Object.entries(o.data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) writeLine(io.stdout, '  <none>');
  for (const [key, value] of entries) {
    const bytes = typeof value === 'number' ? value : Buffer.byteLength(value, 'utf8');
    writeLine(io.stdout, `  ${key}: ${bytes} bytes`);
  }
}
