import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../src/core/manifests/schema.js';
import { ANNOTATION_KEYWORDS } from '../../src/core/objects/kit.js';

const ROOT = new URL('../../', import.meta.url);
const FIXTURES = new URL('test/fixtures/manifests/', ROOT);
const fixtureDocuments = (name: string) =>
  parseAllDocuments(readFileSync(new URL(name, FIXTURES), 'utf8'), { merge: true })
    .map((d) => d.toJS() as unknown)
    .filter((v) => v !== null);

describe('published manifest schema', () => {
  it('docs/schema/grove-manifests.schema.json is the embedded schema', () => {
    // Regenerate with: JSON.stringify(manifestSchema(), null, 2) + '\n'
    const published = readFileSync(new URL('docs/schema/grove-manifests.schema.json', ROOT), 'utf8');
    expect(published).toBe(`${JSON.stringify(manifestSchema(), null, 2)}\n`);
  });

  it('accepts the good fixtures and rejects bad ones as a whole document schema (what editors use)', () => {
    const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, keywords: [...ANNOTATION_KEYWORDS], discriminator: true });
    const validate = ajv.compile(manifestSchema());
    for (const name of ['deployment-busybox.yaml', 'daemonset-labelled.yaml', 'compose-two-services.yaml', 'deployment-web.yaml']) {
      for (const doc of fixtureDocuments(name)) expect(validate(doc), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    for (const name of ['bad/unknown-field.yaml', 'bad/volume-mounts.yaml', 'bad/compose-build.yaml']) {
      for (const doc of fixtureDocuments(name)) expect(validate(doc), name).toBe(false);
    }
    // The object fixtures (namespaces, Pods, Lists): the schema is the objects' own. (Not
    // backup-cronjob.yaml: its "@daily" is written out by the client before the object is
    // checked, so an editor flags the macro; docs/manifests.md says so.)
    for (const name of ['app-config.yaml', 'homelab.yaml', 'iot-daemonset.yaml', 'list.yaml', 'compose-stack.yaml']) {
      for (const doc of fixtureDocuments(`objects/${name}`)) expect(validate(doc), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    expect(validate({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } })).toBe(false);
  });

  it('returns a fresh copy each time', () => {
    const a = manifestSchema() as { definitions: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    a.definitions.Container!.properties.name!.pattern = 'changed';
    const b = manifestSchema() as typeof a;
    expect(b.definitions.Container!.properties.name!.pattern).not.toBe('changed');
  });
});
