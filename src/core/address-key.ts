// The key a client address is counted under by the limits that apply per address (logins, machine
// registrations): IPv4 as is (also when IPv4-mapped, `::ffff:a.b.c.d`), IPv6 by its /64 prefix,
// since one host commonly holds a whole /64 and could otherwise rotate addresses to escape a limit.
// Anything else (a name, 'local') is its own key. Pure: the text alone decides.

export function addressKey(address: string): string {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  if (!/^[0-9a-f:.]+$/.test(bare) || !bare.includes(':')) return bare;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped?.[1] !== undefined) return mapped[1];
  const [head = '', tail] = bare.split('::');
  const groups = (text: string): string[] =>
    text === '' ? [] : text.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const full = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${full
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
