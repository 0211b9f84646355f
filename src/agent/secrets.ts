// The secrets the agent holds — its token, and the passwords of the machine's unattend — kept out
// of every line it prints or reports: each occurrence is replaced before a line leaves the agent.
// The unattend's secrets are the text of its <Value> and <Password> elements (Unattended Windows
// Setup Reference: AdministratorPassword, LocalAccount/Password, AutoLogon/Password,
// Credentials/Password, DomainAccount…), as written, with XML entities resolved, and decoded when
// hidden the way Windows System Image Manager hides them (src/formats/unattend/passwords.ts).

import { decodeUnattendPassword } from '../formats/unattend/index.ts';

export const REDACTED = '***';

const SECRET_ELEMENT = /<(?:[\w.-]+:)?(?:Value|Password)\b[^>]*>([^<]+)</g;

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function resolveEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X'))
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Every secret an unattend file holds, in each form it could be printed in. */
export function unattendSecrets(xml: string): string[] {
  const found = new Set<string>();
  for (const m of xml.matchAll(SECRET_ELEMENT)) {
    const raw = (m[1] ?? '').trim();
    if (raw === '') continue;
    found.add(raw);
    const text = resolveEntities(raw);
    found.add(text);
    for (const setting of ['AdministratorPassword', 'Password'] as const) {
      try {
        found.add(decodeUnattendPassword(text, setting));
      } catch {
        // Not hidden as this setting hides it: the text itself is the secret.
      }
    }
  }
  found.delete('');
  return [...found];
}

/** Replaces the secrets it was given in any text. */
export class SecretScrubber {
  #secrets: string[] = [];

  add(...secrets: readonly string[]): void {
    for (const secret of secrets)
      if (secret !== '' && !this.#secrets.includes(secret)) this.#secrets.push(secret);
    // Longest first: a secret that contains another is replaced whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join(REDACTED);
    return out;
  }
}
