/**
 * Vitest global setup: the precompiled validators (src/core/objects/generated, gitignored) are
 * generated before any test imports them, so a fresh checkout runs `npx vitest` without a build.
 * Files whose content did not change are not rewritten.
 */
import { generateValidators } from '../../src/core/objects/generate.js';

export default function setup(): void {
  generateValidators();
}
