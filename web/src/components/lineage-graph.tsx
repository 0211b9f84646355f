// An image's lineage as a graph read left to right (top to bottom on a narrow screen): the ISO it
// was installed from, the build that made an image (when the server ran it), each image made from
// the one before (an installation, customizations, captures), this image with the tags that point
// at it, and the images made from it. Each step is an item of an ordered list, so that a screen reader reads the chain
// in order; the arrows between them are drawn and hidden from it.
import { Fragment, type ComponentChildren } from 'preact';
import type { Build, ImageRecord, ImageSummary } from '../api-types.ts';
import { shortDigest } from '../format.ts';
import { href } from '../router.ts';

/** The most steps followed back through parents: a chain longer than this is cut, and says so. */
const MAX_ANCESTORS = 32;

function TagLinks({ images, empty }: { readonly images: readonly ImageSummary[]; readonly empty: string }) {
  if (images.length === 0) return <span class="muted">{empty}</span>;
  return (
    <span>
      {images.map((i, n) => (
        <Fragment key={`${i.name}:${i.tag}`}>
          {n > 0 ? ', ' : null}
          <a href={href('images', i.name, i.tag)}>
            {i.name}:{i.tag}
          </a>
        </Fragment>
      ))}
    </span>
  );
}

interface Step {
  readonly key: string;
  readonly kind: string;
  readonly digest: string | null;
  readonly detail: ComponentChildren;
  readonly current?: boolean;
}

/** How an image was made, as its record tells: from an ISO, a capture, or from another image. */
function kindOf(
  image: { readonly sourceIsoSha256: string | null; readonly parentDigest: string | null },
  captured: string | null,
): string {
  if (captured !== null) return `Captured from ${captured}`;
  if (image.sourceIsoSha256 !== null) return 'Installed from the ISO';
  if (image.parentDigest !== null) return 'Customization';
  return 'Pushed';
}

function capturedFromRecipe(recipe: unknown): string | null {
  if (typeof recipe !== 'object' || recipe === null || !('capturedFrom' in recipe)) return null;
  const from = recipe.capturedFrom;
  if (typeof from === 'object' && from !== null && 'machine' in from) {
    const machine = from.machine;
    if (typeof machine === 'string') return machine;
  }
  return 'a machine';
}

export function LineageGraph({
  record,
  images,
  partial,
  builds,
}: {
  readonly record: ImageRecord;
  /** The images listed (a page of them): the tags of each digest, the parents of each image. */
  readonly images: readonly ImageSummary[];
  /** The listing has more pages: an image not found in it may still be there. */
  readonly partial: boolean;
  /** The builds listed: the one whose result is an image of the chain is drawn before it. */
  readonly builds: readonly Build[];
}) {
  const byDigest = new Map<string, ImageSummary[]>();
  for (const i of images) byDigest.set(i.digest, [...(byDigest.get(i.digest) ?? []), i]);
  const notListed = partial ? '(not among the first images listed)' : '(no tag points at it now)';

  // Back through the parents, as far as the listing knows them.
  const ancestors: { readonly digest: string; readonly tags: readonly ImageSummary[] }[] = [];
  let cut = false;
  for (let digest = record.parentDigest; digest !== null;) {
    if (ancestors.length >= MAX_ANCESTORS || ancestors.some((a) => a.digest === digest)) {
      cut = true;
      break;
    }
    const tags = byDigest.get(digest) ?? [];
    ancestors.unshift({ digest, tags });
    digest = tags[0]?.parentDigest ?? null;
  }
  const root = ancestors[0]?.tags[0] ?? (ancestors.length === 0 ? record : undefined);
  const iso = root?.sourceIsoSha256 ?? null;

  const steps: Step[] = [];
  const buildStep = (digest: string): void => {
    const build = builds.find((b) => b.record?.result?.digest === digest);
    if (build === undefined) return;
    steps.push({
      key: `build-${build.id}`,
      kind: 'Build',
      digest: null,
      detail: (
        <span>
          <a href={href('builds', build.id)}>{build.recipe.file}</a>{' '}
          <span class="muted">by {build.owner}</span>
        </span>
      ),
    });
  };
  if (iso !== null) {
    steps.push({
      key: 'iso',
      kind: 'Windows ISO',
      digest: null,
      detail: <span class="mono">sha256 {iso.slice(0, 12)}</span>,
    });
  }
  if (cut)
    steps.push({
      key: 'cut',
      kind: 'Earlier images',
      digest: null,
      detail: <span class="muted">not followed</span>,
    });
  for (const a of ancestors) {
    buildStep(a.digest);
    const first = a.tags[0];
    steps.push({
      key: a.digest,
      kind: first === undefined ? 'Image' : kindOf(first, first.capturedFrom),
      digest: a.digest,
      detail: <TagLinks images={a.tags} empty={notListed} />,
    });
  }
  buildStep(record.digest);
  steps.push({
    key: 'this',
    kind: `This image: ${kindOf(record, capturedFromRecipe(record.recipe))}`,
    digest: record.digest,
    detail: <TagLinks images={byDigest.get(record.digest) ?? []} empty={`${record.name}:${record.tag}`} />,
    current: true,
  });
  const children = images.filter((i) => i.parentDigest === record.digest);
  steps.push({
    key: 'children',
    kind: 'Made from it',
    digest: null,
    detail: (
      <TagLinks images={children} empty={partial ? 'none among the first images listed' : 'no image yet'} />
    ),
  });

  return (
    <ol class="lineage lineage-graph" aria-label="Lineage, from the source to the images made from this one">
      {steps.map((s) => (
        <li key={s.key} class="lineage-node" aria-current={s.current === true ? 'true' : undefined}>
          <span class="step-label">{s.kind}</span>
          {s.digest === null ? null : <span class="mono">{shortDigest(s.digest)}</span>}
          {s.detail}
        </li>
      ))}
    </ol>
  );
}
