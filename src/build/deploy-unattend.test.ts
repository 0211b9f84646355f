import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childElements, findComponents, lintUnattend, parseUnattend } from '../formats/unattend/index.ts';
import { deployUnattend } from './deploy-unattend.ts';

const USER_FILE = `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <TimeZone>UTC</TimeZone>
    </component>
  </settings>
</unattend>
`;

test('none without a file or CopyProfile; the file kept; CopyProfile added in specialize', () => {
  assert.equal(deployUnattend(null, false), null);
  const kept = parseUnattend(deployUnattend(USER_FILE, false) ?? '');
  assert.equal(findComponents(kept, 'oobeSystem', 'Microsoft-Windows-Shell-Setup').length, 1);
  for (const file of [null, USER_FILE]) {
    const text = deployUnattend(file, true) ?? '';
    const [shell] = findComponents(parseUnattend(text), 'specialize', 'Microsoft-Windows-Shell-Setup');
    assert.ok(shell);
    const copy = shell.settings.find((s) => s.kind === 'element' && s.name === 'CopyProfile');
    assert.ok(copy?.kind === 'element' && childElements(copy).length === 0);
    assert.deepEqual(
      lintUnattend(text).filter((f) => f.severity === 'error'),
      [],
    );
  }
});
