/** Time source injected into the server's pieces so tests can move time by hand. */
export interface Clock {
  now(): Date;
}

export function systemClock(): Clock {
  return { now: () => new Date() };
}
