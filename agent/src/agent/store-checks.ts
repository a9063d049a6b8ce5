/**
 * What the agent's store entries must look like beyond being readable records: the check
 * `grove agent fsck` and every agent start run (src/store/quarantine.ts quarantines what
 * fails). A quarantined target is harmless: the server's retained target arrives again.
 */
import { errorMessage } from '../../../src/core/errors.js';
import { encodeMessage } from '../../../src/core/wire-codec.js';
import { decodeAnyNodeTarget } from '../../../src/core/wire-target.js';
import type { EntryCheck } from '../../../src/store/quarantine.js';
import type { StoreEntry } from '../../../src/store/store.js';
import { JOB_KEY_PREFIX } from './jobs/runner.js';
import { APPLIED_REVISION_KEY, TARGET_KEY } from './sync-client.js';

export const agentEntryCheck: EntryCheck = (entry: StoreEntry): string | undefined => {
  const { key, value } = entry;
  if (key === TARGET_KEY) {
    try {
      // The same check the agent makes on a target from the wire (schema 1 or 2), checksum included.
      decodeAnyNodeTarget(encodeMessage(value as object));
    } catch (err) {
      return `not a valid target: ${errorMessage(err)}`;
    }
  } else if (key === APPLIED_REVISION_KEY) {
    if (!Number.isSafeInteger(value) || (value as number) < 0) return 'not a revision';
  } else if (key.startsWith(JOB_KEY_PREFIX)) {
    const rec = value as { pod?: unknown; templateHash?: unknown } | null;
    if (typeof rec !== 'object' || rec === null || typeof rec.pod !== 'string' || typeof rec.templateHash !== 'string') return 'not a job record';
  }
  return undefined;
};
