import { describe, expect, it } from 'vitest';
import { checkClientToken } from '../../src/cli/client/client-token.js';

const SOURCE = 'client config /etc/grove/client.json';
const GOOD = 'a3f9'.repeat(16);

/** The one-line message for `raw`, which must never contain the token itself. */
function message(raw: unknown): string {
  try {
    checkClientToken(raw, SOURCE);
  } catch (err) {
    const text = (err as Error).message;
    if (typeof raw === 'string' && raw.trim().length >= 8) expect(text).not.toContain(raw.trim().slice(0, 8));
    return text;
  }
  throw new Error('accepted');
}

describe('client token', () => {
  it('accepts an admin token, dropping the whitespace around it', () => {
    expect(checkClientToken(GOOD, SOURCE)).toBe(GOOD);
    expect(checkClientToken(`  ${GOOD}\n`, SOURCE)).toBe(GOOD);
    expect(checkClientToken('dGhpcyBpcyBhIHRva2Vu+/_-.~==', SOURCE)).toBe('dGhpcyBpcyBhIHRva2Vu+/_-.~==');
  });

  it('says missing only when there is none', () => {
    expect(message(undefined)).toBe(`${SOURCE}: token is missing`);
    expect(message(null)).toBe(`${SOURCE}: token is missing`);
    expect(message(' \n')).toBe(`${SOURCE}: token is missing`);
  });

  it('says malformed, why, and where it came from, without echoing it', () => {
    expect(message(42)).toBe(`${SOURCE}: token is malformed: expected a string, found a number`);
    expect(message([GOOD])).toBe(`${SOURCE}: token is malformed: expected a string, found a list`);
    expect(message(`${GOOD.slice(0, 32)}\n${GOOD.slice(32)}`)).toBe(`${SOURCE}: token is malformed: a line break at character 33 (a token is letters, digits and -._~+/ only)`);
    expect(message(`${GOOD.slice(0, 10)} ${GOOD.slice(10)}`)).toBe(`${SOURCE}: token is malformed: a space at character 11 (a token is letters, digits and -._~+/ only)`);
    expect(message(`${GOOD}\u0000`)).toBe(`${SOURCE}: token is malformed: a control character at character 65 (a token is letters, digits and -._~+/ only)`);
    expect(message(`é${GOOD}`)).toBe(`${SOURCE}: token is malformed: a non-ASCII character at character 1 (a token is letters, digits and -._~+/ only)`);
    expect(message(`${GOOD}=x`)).toBe(`${SOURCE}: token is malformed: "=" at character 65 (a token is letters, digits and -._~+/ only)`);
    expect(message('abc123')).toBe(`${SOURCE}: token is malformed: too short for an admin token (at least 16 characters)`);
    expect(message('x'.repeat(5000))).toBe(`${SOURCE}: token is malformed: longer than 4096 characters`);
  });

  it('recognises a join token given where the admin token belongs', () => {
    const join = `grove1.insecure.0123abcd.${'A'.repeat(43)}`;
    expect(message(join)).toBe(`${SOURCE}: token is a join token (grove1.…), not the admin token: client verbs need the token in <data-dir>/server/admin-token`);
  });
});
