import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { parseProfileSteps, profileStepsText } from './profile-steps.ts';

const PROFILE = `name: web
image: a:v1
adminPassword: 'S3cret!pass'
customize:
  # the drivers first
  - drivers: [ drivers/viostor ]
  - firstboot: [ { cmd: 'echo ready' }, { powershell: { file: scripts\\first.ps1 } } ]
unattend: { domainJoin: { domain: contoso.com, username: j, password: 'J0in!pass' } }
finish: reboot
`;

test('the steps text keeps the customize: entry where it is and nothing else of the profile', () => {
  const text = profileStepsText(PROFILE);
  assert.equal(text.length, PROFILE.length);
  assert.equal(text.split('\n').length, PROFILE.split('\n').length);
  assert.ok(!text.includes('S3cret') && !text.includes('J0in') && !text.includes('a:v1'), text);
  assert.match(text, /^ +\n +\n +\ncustomize:\n {2}# the drivers first\n {2}- drivers/);
  assert.equal(profileStepsText('name: web\nimage: a:v1\n'), '');
});

test('the agent reads the steps from that text at their places, the share paths made local', () => {
  const steps = parseProfileSteps(profileStepsText(PROFILE), 'profile web', (p) => `/scratch/share/${p}`);
  assert.deepEqual(steps[0], {
    kind: 'drivers',
    folders: [{ dir: '/scratch/share/drivers/viostor', where: 'profile web:6:16' }],
  });
  const firstboot = steps[1];
  assert.deepEqual(firstboot?.kind === 'firstboot' ? firstboot.scripts.map((s) => s.file ?? s.text) : [], [
    'echo ready',
    '/scratch/share/scripts/first.ps1',
  ]);
  assert.throws(
    () => parseProfileSteps('customize:\n  - metadata: { name: x }\n', 'profile web', (p) => p),
    (e: unknown) => e instanceof AppError && e.message.startsWith('profile web:2:5: metadata is not a step'),
  );
});
