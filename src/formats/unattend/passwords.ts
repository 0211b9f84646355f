// Passwords in answer files as Windows System Image Manager writes them when "Hide Sensitive Data"
// is on (Unattended Windows Setup Reference, Microsoft-Windows-Shell-Setup | UserAccounts |
// AdministratorPassword | Value, and | LocalAccounts | LocalAccount | Password | Value): <Value> is
// the base64 of the UTF-16LE bytes of the password followed by the setting's name
// ("AdministratorPassword" or "Password"), and <PlainText> is false. It hides the password from a
// glance, not from anyone who reads this comment: it is not encryption.

import { FormatError } from '../../core/errors.ts';
import { utf16leBytes } from '../utf16.ts';

/** The suffix Windows appends: the name of the setting that holds the password. */
export type PasswordSetting = 'AdministratorPassword' | 'Password';

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The <Value> Windows expects with <PlainText>false</PlainText>. */
export function encodeUnattendPassword(password: string, setting: PasswordSetting): string {
  return base64(utf16leBytes(password + setting));
}

/** The password of an encoded <Value>; throws FormatError when it is not one for `setting`. */
export function decodeUnattendPassword(value: string, setting: PasswordSetting): string {
  let binary: string;
  try {
    binary = atob(value.trim());
  } catch {
    throw new FormatError(`expected a base64 password value, found "${value.slice(0, 40)}"`);
  }
  if (binary.length % 2 !== 0)
    throw new FormatError('expected UTF-16LE bytes (an even count) in the password value');
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const text = new TextDecoder('utf-16le').decode(bytes);
  if (!text.endsWith(setting))
    throw new FormatError(`expected an encoded password ending in "${setting}", found one that does not`);
  return text.slice(0, -setting.length);
}
