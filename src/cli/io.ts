/** The streams a command writes to; injected so tests can capture output. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr };
}

export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(line + '\n');
}
