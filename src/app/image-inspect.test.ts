import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppError } from '../core/errors.ts';
import { imagePath, KeptAnswers } from './image-inspect.ts';

test('image paths: absolute, either slash, no dot segments or control characters', () => {
  assert.equal(imagePath('/'), '/');
  assert.equal(imagePath('\\Windows\\System32\\'), '/Windows/System32');
  assert.equal(imagePath('//Windows//Fonts'), '/Windows/Fonts');
  for (const bad of ['Windows', '', '/Windows/../x', '/./x', '/a\u0000b', `/${'x'.repeat(5000)}`]) {
    assert.throws(
      () => imagePath(bad),
      (e: unknown) => isAppError(e) && e.code === 'INVALID_ARGUMENT',
      JSON.stringify(bad.slice(0, 20)),
    );
  }
});

test('kept answers: shared while made, kept once made, the oldest forgotten past the weight', async () => {
  const kept = new KeptAnswers<string[]>(6, (v) => v.length);
  let made = 0;
  const make = (value: string[]) => () => {
    made += 1;
    return Promise.resolve(value);
  };
  const [x, y] = await Promise.all([kept.get('a', make(['1', '2'])), kept.get('a', make(['other']))]);
  assert.deepEqual([x, y, made], [['1', '2'], ['1', '2'], 1]);
  await kept.get('b', make(['3', '4']));
  // a (weight 3) and b (3) fill it; reading a makes b the oldest, which c pushes out.
  await kept.get('a', make(['again']));
  await kept.get('c', make(['5']));
  assert.equal(made, 3);
  assert.deepEqual(await kept.get('a', make(['again'])), ['1', '2']);
  assert.deepEqual(await kept.get('b', make(['new b'])), ['new b']);
  assert.equal(made, 4);
});

test('kept answers: a failure is not kept, and is asked again', async () => {
  const kept = new KeptAnswers<number>(10, () => 1);
  await assert.rejects(
    kept.get('k', () => Promise.reject(new Error('no'))),
    /no/,
  );
  assert.equal(await kept.get('k', () => Promise.resolve(7)), 7);
});
