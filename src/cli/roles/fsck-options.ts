import { onOff } from '../config/option.js';

/** `grove server fsck` and `grove agent fsck` (store-fsck.ts). */
export const FSCK_OPTIONS = {
  dryRun: onOff({ description: 'list what is wrong, change nothing (exit 1 when something is)' }),
  acceptLoss: onOff({ description: 'open a store that lost commits anyway: its revision moves past the highest known, so nodes take new targets' }),
};
