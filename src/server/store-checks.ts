/**
 * What the server's store entries must look like beyond being readable records: the check
 * `grove server fsck` and every server start run over the store (src/store/quarantine.ts
 * quarantines what fails it). One bad value must not stop the server (a Secret whose seal no
 * longer opens) or make a name unusable (a ConfigMap that cannot be read back).
 *
 * Deliberately narrow. Objects (the current layout) were checked by their kind's schema and rules
 * when they were written (objects/admit.ts) and are not judged again: a rule tightened in a later
 * version must never quarantine a working object. A Grove 0.1 store (checked at start before
 * src/server/migrate upgrades it) is read with the migration's frozen 0.1 layout: a record the
 * migration could not read is quarantined instead of stopping the upgrade; a ConfigMap or Secret
 * must also make a valid object (Kubernetes' rules, which are stable), as the migration requires.
 */
import { errorMessage } from '../core/errors.js';
import { LEGACY_KEYS } from '../core/keys.js';
import { checkObject } from '../core/objects/validate.js';
import { isSealed, keyId } from '../core/seal.js';
import type { EntryCheck } from '../store/quarantine.js';
import type { StoreEntry } from '../store/store.js';
import { asLegacyApp, asLegacyConfigMap, asLegacyNode, asLegacyPod, asLegacySecret, isObj } from './migrate/legacy-model.js';
import { migrateConfigMap, migrateSecret } from './migrate/records.js';
import { isSealedKey, openSealedValue } from './sealed-store.js';

/** 0.1 records whose value carries `meta.name` equal to the key's last part, and how each reads. */
const NAMED_0_1: readonly [prefix: string, kind: string, read: (v: unknown) => { meta: { name: string } } | undefined][] = [
  [LEGACY_KEYS.appPrefix, 'App', asLegacyApp],
  [LEGACY_KEYS.configMapPrefix, 'ConfigMap', asLegacyConfigMap],
  [LEGACY_KEYS.secretPrefix, 'Secret', asLegacySecret],
  [LEGACY_KEYS.nodePrefix, 'Node', asLegacyNode],
  [LEGACY_KEYS.podPrefix, 'Pod', asLegacyPod],
];

/** What the object check of a 0.1 ConfigMap or Secret needs of a migration context: nothing that varies. */
const CHECK_CONTEXT = { now: new Date(0), newUid: () => '00000000-0000-4000-8000-000000000000' };

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
  // Objects (configmaps/<ns>/<name>, nodes/<name> …) were checked when they were written.
  if (isObj(value) && typeof value.apiVersion === 'string' && isObj(value.metadata)) return undefined;
  const named = NAMED_0_1.find(([prefix]) => key.startsWith(prefix));
  if (!named) return undefined;
  const [prefix, kind, read] = named;
  const name = key.slice(prefix.length);
  if (!isObj(value) || !isObj(value.meta)) return 'not an object with meta';
  if (value.meta.name !== name) return `meta.name is ${JSON.stringify(value.meta.name)}, not ${JSON.stringify(name)}`;
  if (value.kind !== kind) return `kind is ${JSON.stringify(value.kind)}, not ${kind}`;
  const record = read(value);
  if (!record) return kind === 'App' ? 'not a Grove 0.1 App (spec.template.containers is missing or malformed)' : `not a Grove 0.1 ${kind} record`;
  const object = kind === 'ConfigMap' ? migrateConfigMap(asLegacyConfigMap(value)!, CHECK_CONTEXT) : kind === 'Secret' ? migrateSecret(asLegacySecret(value)!, CHECK_CONTEXT) : undefined;
  if (object) {
    const checked = checkObject(object.kind, object);
    if (!checked.ok) return checked.problems.slice(0, 3).map((p) => `${p.path.join('.') || '(object)'}: ${p.reason}`).join('; ');
  }
  return undefined;
}
