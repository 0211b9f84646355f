// The answer file Sysprep leaves for the deployed machines' first boot (sysprep /unattend): the
// recipe's generalize.unattend file, with CopyProfile set in specialize when the recipe asks for it
// (the build's Administrator profile becomes the default profile). Null when there is neither.

import {
  emptyUnattend,
  el,
  mergeUnattend,
  newComponent,
  parseUnattend,
  renderUnattend,
} from '../formats/unattend/index.ts';

export function deployUnattend(file: string | Uint8Array | null, copyProfile: boolean): string | null {
  if (file === null && !copyProfile) return null;
  const base = file === null ? emptyUnattend() : parseUnattend(file);
  if (!copyProfile) return renderUnattend(base);
  const copy = newComponent('Microsoft-Windows-Shell-Setup', 'amd64', [el('CopyProfile', true)]);
  return renderUnattend(
    mergeUnattend(base, {
      settings: [{ pass: 'specialize', components: [copy], other: [] }],
      other: [],
      leading: [],
    }),
  );
}
