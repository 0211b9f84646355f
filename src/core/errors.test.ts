import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError, FormatError, printable } from './errors.ts';

const NON_PRINTING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

test('control and non-printing characters are escaped, each as \\xHH or \\uHHHH', () => {
  assert.equal(printable('a\rb\nc\u0000d\u0085e\u2028f\u202eg'), 'a\\x0db\\x0ac\\x00d\\x85e\\u2028f\\u202eg');
  assert.equal(printable('Größe € \u{1F600}'), 'Größe € \u{1F600}');
  assert.equal(printable('\ud800x'), '\\ud800x');
});

test('an error made of any text is one printable line, message and hint', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ unit: 'binary' }), (text, hint) => {
      for (const e of [new AppError('NOT_FOUND', `no key ${text}`, { hint }), new FormatError(text)]) {
        assert.doesNotMatch(e.message, NON_PRINTING);
        if (e.hint !== undefined) assert.doesNotMatch(e.hint, NON_PRINTING);
      }
    }),
  );
});
