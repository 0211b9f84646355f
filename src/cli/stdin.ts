// Standard input read whole, for secrets given with --password-stdin.

/** All of standard input as UTF-8, without one trailing line break. */
export async function readStdinLine(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of process.stdin as AsyncIterable<Buffer>) parts.push(piece);
  return Buffer.concat(parts)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
