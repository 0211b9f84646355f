import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../../core/errors.ts';
import { REG_TYPES } from '../../formats/regf/index.ts';
import { mapRegistryPath } from './hive-paths.ts';
import { parseRecipe, STEP_KINDS } from './recipe.ts';
import { matchImagePaths } from './steps.ts';

function parseError(text: string): string {
  try {
    parseRecipe(text, 'r.yaml', '/base');
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('the recipe was accepted');
}

test('every step kind parses, host paths resolved against the recipe folder', () => {
  const r = parseRecipe(
    [
      'customize:',
      "  - files: { add: [ { src: a.txt, dest: 'X\\a.txt' }, { content: hi, dest: b.txt } ], remove: 'Windows\\Temp\\*', rename: [ { from: a, to: b } ] }",
      "  - registry: { set: [ { key: 'HKLM\\SOFTWARE\\A', name: n, type: REG_DWORD, data: 7 } ], delete: [ { key: 'HKCU\\B' } ], import: x.reg }",
      '  - drivers: d',
      '  - unattend: { computerName: A, file: u.xml }',
      "  - firstboot: [ { cmd: 'echo 1' }, { powershell: { file: s.ps1 } } ]",
      '  - features: [ Web-Server, RSAT ]',
      '  - metadata: { name: N, displayName: D, flags: F }',
    ].join('\n'),
    'r.yaml',
    '/base',
  );
  assert.deepEqual(
    r.steps.map((s) => s.kind),
    [...STEP_KINDS],
  );
  const [files, registry, drivers, unattend, firstboot, , metadata] = r.steps;
  assert.equal(
    files?.kind === 'files' && files.add[0]?.from === 'host' ? files.add[0].src : '',
    '/base/a.txt',
  );
  assert.equal(files?.kind === 'files' ? files.remove[0]?.pattern : '', 'Windows\\Temp\\*');
  assert.deepEqual(registry?.kind === 'registry' ? registry.set[0]?.path : null, {
    hive: 'SOFTWARE',
    key: 'A',
  });
  assert.equal(registry?.kind === 'registry' ? registry.set[0]?.type : 0, REG_TYPES.REG_DWORD);
  assert.deepEqual(registry?.kind === 'registry' ? registry.delete[0]?.path : null, {
    hive: 'NTUSER.DAT',
    key: 'B',
  });
  assert.equal(drivers?.kind === 'drivers' ? drivers.folders[0]?.dir : '', '/base/d');
  assert.equal(unattend?.kind === 'unattend' ? unattend.file : '', '/base/u.xml');
  assert.equal(firstboot?.kind === 'firstboot' ? firstboot.scripts[1]?.file : '', '/base/s.ps1');
  assert.deepEqual(metadata?.kind === 'metadata' ? metadata.properties : null, {
    NAME: 'N',
    DISPLAYNAME: 'D',
    FLAGS: 'F',
  });
  assert.match(r.sha256, /^[0-9a-f]{64}$/);
});

test('errors name file, line and column and what was expected', () => {
  assert.equal(
    parseError('customize:\n  - fiels: {}\n'),
    "r.yaml:2:5: unknown step 'fiels' — expected one of files, registry, drivers, unattend, firstboot, features, metadata",
  );
  assert.match(
    parseError('customise: []\n'),
    /^r\.yaml:1:1: unknown key 'customise' in the recipe — expected one of customize$/,
  );
  assert.match(
    parseError('customize:\n  - files: { add: [ { dest: a } ] }\n'),
    /^r\.yaml:2:21: a file to add needs exactly one of src/,
  );
  assert.match(
    parseError("customize:\n  - files: { remove: [ '..\\x' ] }\n"),
    /^r\.yaml:2:24: .*without '\.\.'/,
  );
  assert.match(
    parseError(
      "customize:\n  - registry: { set: [ { key: 'HKLM\\SOFTWARE\\A', type: REG_DWORD, data: x } ] }\n",
    ),
    /^r\.yaml:2:73: data for REG_DWORD must be an integer/,
  );
  assert.match(
    parseError('customize:\n  - firstboot: [ { bash: x } ]\n'),
    /^r\.yaml:2:20: unknown key 'bash' in a firstboot script/,
  );
  assert.match(
    parseError('customize:\n  - features: [ "Web Server" ]\n'),
    /'Web Server' is not a Windows feature name/,
  );
  assert.match(
    parseError('customize:\n  - files: {}\n    registry: {}\n'),
    /^r\.yaml:2:5: a step must have exactly one key/,
  );
  assert.match(
    parseError("customize:\n  - unattend: { computerName: 'not a name!' }\n"),
    /^r\.yaml:2:31: computerName must be 1 to 15/,
  );
  assert.match(
    parseError('customize:\n  - unattend: { computername: A }\n'),
    /^r\.yaml:2:17: .*computername/,
  );
  assert.match(parseError('customize: [\n'), /^r\.yaml:\d+:\d+: /);
});

test('registry roots map to the offline hives', () => {
  assert.deepEqual(mapRegistryPath('HKEY_LOCAL_MACHINE\\SYSTEM\\Select'), { hive: 'SYSTEM', key: 'Select' });
  assert.deepEqual(mapRegistryPath('HKLM\\security'), { hive: 'SECURITY', key: '' });
  assert.deepEqual(mapRegistryPath('HKU\\.DEFAULT\\Control Panel'), {
    hive: 'DEFAULT',
    key: 'Control Panel',
  });
  assert.deepEqual(mapRegistryPath('HKU\\Default\\Software'), { hive: 'NTUSER.DAT', key: 'Software' });
  assert.deepEqual(mapRegistryPath('HKEY_CURRENT_USER\\Software\\X'), {
    hive: 'NTUSER.DAT',
    key: 'Software\\X',
  });
  for (const bad of ['HKLM\\HARDWARE\\DESCRIPTION', 'HKCR\\.txt', 'HKU\\S-1-5-18', 'SOFTWARE\\X']) {
    assert.throws(() => mapRegistryPath(bad), /not in a hive an offline image has/);
  }
});

test('image path patterns: * and ? within one component, any letter case', () => {
  const paths = [
    '/Windows/Temp',
    '/Windows/Temp/a.log',
    '/Windows/Temp/b.tmp',
    '/Windows/Temp/sub',
    '/Windows/Temp/sub/c',
    '/windows/temp.txt',
  ];
  assert.deepEqual(matchImagePaths(paths, 'Windows\\Temp\\*'), [
    '/Windows/Temp/a.log',
    '/Windows/Temp/b.tmp',
    '/Windows/Temp/sub',
  ]);
  assert.deepEqual(matchImagePaths(paths, '/WINDOWS/temp/?.log'), ['/Windows/Temp/a.log']);
  assert.deepEqual(matchImagePaths(paths, 'Windows\\Temp'), ['/Windows/Temp']);
  assert.deepEqual(matchImagePaths(paths, 'Windows\\T[e]mp\\*'), []);
});

test('property: any text is a recipe or an AppError naming the file, never another exception', () => {
  const pieces = [
    'customize:',
    '\n',
    '  - ',
    'files',
    'registry',
    'drivers',
    'unattend',
    'metadata',
    'firstboot',
    'features',
    ': ',
    '{ ',
    ' }',
    '[',
    ']',
    'add',
    'src',
    'dest',
    'content',
    'key',
    "'HKLM\\SOFTWARE\\A'",
    'x',
    ',',
    '"',
    '&a',
    '*a',
    '!!int',
    '0x1',
  ];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(fc.constantFrom(...pieces)).map((p) => p.join('')),
      ),
      (text) => {
        try {
          parseRecipe(text, 'r.yaml', '/base');
        } catch (e) {
          assert.ok(e instanceof AppError, String(e));
          assert.match(e.message, /^r\.yaml:\d+:\d+: /);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: a plain path matches itself, and Folder\\* matches exactly its children', () => {
  const component = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,12}$/).filter((c) => c !== '.' && c !== '..');
  fc.assert(
    fc.property(
      fc.array(component, { minLength: 1, maxLength: 5 }),
      fc.array(component, { maxLength: 5 }),
      (parts, children) => {
        const path = `/${parts.join('/')}`;
        const kids = [...new Set(children.map((c) => `${path}/${c}`))];
        const all = [path, ...kids, `${path}/x/deeper`];
        assert.ok(matchImagePaths(all, parts.join('\\')).includes(path));
        assert.deepEqual(
          matchImagePaths(all, `${parts.join('\\')}\\*`).sort(),
          [...new Set([...kids, `${path}/x`].filter((k) => all.includes(k)))].sort(),
        );
      },
    ),
  );
});
