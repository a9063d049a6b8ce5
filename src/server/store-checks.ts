/**
 * What the server's store entries must look like beyond being readable records: the check
 * `grove server fsck` and every server start run over the store (src/store/quarantine.ts
 * quarantines what fails it). One bad value must not stop the server (a Secret whose seal no
 * longer opens) or make a name unusable (a ConfigMap that cannot be read back).
 *
 * Deliberately narrow: a ConfigMap or Secret is checked with the API's own validator (its rules
 * are Kubernetes' and stable), everything else only for the structure the server's code relies
 * on, so a validation rule tightened in a later version never quarantines a working App.
 */
import { errorMessage } from '../core/errors.js';
import { isSealed, keyId } from '../core/seal.js';
import type { EntryCheck } from '../store/quarantine.js';
import type { StoreEntry } from '../store/store.js';
import { PREFIX } from './resources.js';
import { isSealedKey, openSealedValue } from './sealed-store.js';
import { validateResource } from './validate.js';
import { isObj } from './validate-primitives.js';

/** Prefixes whose values carry `meta.name` equal to the key's last part. */
const NAMED = [PREFIX.App, PREFIX.ConfigMap, PREFIX.Secret, PREFIX.Node, PREFIX.Pod] as const;

/**
 * The checker for a server store. `secretKey` is the key in use: a record sealed with it that
 * does not open is corrupt; one sealed with another key is not judged here (the server refuses
 * to start on a wrong key file as a whole, src/server/sealed-store.ts).
 */
export function serverEntryCheck(secretKey: Buffer | undefined): EntryCheck {
  const inUse = secretKey ? keyId(secretKey) : undefined;
  return (entry: StoreEntry): string | undefined => {
    let value = entry.value;
    if (isSealedKey(entry.key) && isSealed(value)) {
      if (!secretKey || value.keyId !== inUse) return undefined;
      try {
        value = openSealedValue(secretKey, entry.key, value);
      } catch (err) {
        return `sealed with the secrets key in use but does not open: ${errorMessage(err)}`;
      }
    }
    return shapeProblem(entry.key, value);
  };
}

function shapeProblem(key: string, value: unknown): string | undefined {
  // The object layout (a store upgraded from 0.1, src/server/migrate) is not judged by the 0.1
  // record shapes below: its own check comes with the object store.
  if (isObj(value) && typeof value.apiVersion === 'string' && isObj(value.metadata)) return undefined;
  const prefix = NAMED.find((p) => key.startsWith(p));
  if (!prefix) return undefined;
  // A Kubernetes object (configmaps/<ns>/<name>, nodes/<name> …) was checked by its schema when
  // it was written (src/server/objects/admit.ts); these checks are for the 0.1 records.
  if (isObj(value) && typeof value.apiVersion === 'string' && isObj(value.metadata)) return undefined;
  const name = key.slice(prefix.length);
  if (!isObj(value) || !isObj(value.meta)) return 'not an object with meta';
  if (value.meta.name !== name) return `meta.name is ${JSON.stringify(value.meta.name)}, not ${JSON.stringify(name)}`;
  if (prefix === PREFIX.ConfigMap || prefix === PREFIX.Secret) {
    const kind = prefix === PREFIX.ConfigMap ? 'ConfigMap' : 'Secret';
    if (value.kind !== kind) return `kind is ${JSON.stringify(value.kind)}, not ${kind}`;
    try {
      validateResource(value, key);
    } catch (err) {
      return errorMessage(err);
    }
  }
  if (prefix === PREFIX.App) {
    const spec = value.spec;
    if (value.kind !== 'App') return `kind is ${JSON.stringify(value.kind)}, not App`;
    if (!isObj(spec) || !isObj(spec.template) || !Array.isArray(spec.template.containers)) return 'spec.template.containers is missing';
  }
  return undefined;
}
