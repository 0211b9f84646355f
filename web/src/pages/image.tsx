// One image: what it is (digest, size, SHA-256, who pushed it), its editions, and its lineage: the
// ISO it was installed from, the image it was made from, the tags that point at it now, and the
// recipe that made it.
import { Fragment } from 'preact';
import type { ImagePage, ImageRecord, ImageSummary } from '../api-types.ts';
import { segment } from '../api.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { editionsOf } from '../editions.ts';
import { formatBytes, formatTime, shortDigest } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';

/** The most images one page of the listing gives (IMAGE_PAGE_MAX): enough to find a parent's tags. */
const LINEAGE_PAGE = 1000;

function TagLinks({ images, empty }: { readonly images: readonly ImageSummary[]; readonly empty: string }) {
  if (images.length === 0) return <span class="muted">{empty}</span>;
  return (
    <>
      {images.map((i, n) => (
        <Fragment key={`${i.name}:${i.tag}`}>
          {n > 0 ? ', ' : null}
          <a href={href('images', i.name, i.tag)}>
            {i.name}:{i.tag}
          </a>
        </Fragment>
      ))}
    </>
  );
}

function recipeText(recipe: unknown): string | null {
  if (recipe === null || recipe === undefined) return null;
  return typeof recipe === 'string' ? recipe : JSON.stringify(recipe, null, 2);
}

export function ImagePage({ name, tag }: { readonly name: string; readonly tag: string }) {
  const image = useLoad(
    (api) => api.get<ImageRecord>(`/api/v1/images/${segment(name)}/tags/${segment(tag)}`),
    [name, tag],
  );
  const all = useLoad((api) => api.get<ImagePage>(`/api/v1/images?limit=${LINEAGE_PAGE}`), []);
  const record = image.data;
  const others = all.data?.images ?? [];
  const parentDigest = record?.parentDigest ?? null;
  const parents = parentDigest === null ? [] : others.filter((i) => i.digest === parentDigest);
  const sameContent = record === null ? [] : others.filter((i) => i.digest === record.digest);
  const children = record === null ? [] : others.filter((i) => i.parentDigest === record.digest);
  const recipe = recipeText(record?.recipe);
  // Past the first page of the listing, an image not found may still be there.
  const partial = (all.data?.next ?? null) !== null;
  return (
    <>
      <PageTitle>
        {name}:{tag}
      </PageTitle>
      <p>
        <a href={href('images')}>All images</a>
      </p>
      <ErrorNotice error={image.error} />
      {record === null ? (
        <Pending loaded={image} what="the image" />
      ) : (
        <>
          <section aria-labelledby="about">
            <h2 id="about">About</h2>
            <dl class="facts">
              <dt>Digest</dt>
              <dd class="mono">{record.digest}</dd>
              <dt>Size</dt>
              <dd>{formatBytes(record.size)}</dd>
              <dt>SHA-256</dt>
              <dd class="mono">{record.sha256}</dd>
              <dt>Media type</dt>
              <dd>{record.mediaType}</dd>
              <dt>Pushed by</dt>
              <dd>{record.pushedBy ?? '—'}</dd>
              <dt>Pushed</dt>
              <dd>{formatTime(record.pushedAt)}</dd>
            </dl>
          </section>
          <section aria-labelledby="editions">
            <h2 id="editions">Editions</h2>
            {record.editions.length === 0 ? (
              <p class="muted">This image records no editions (it is not a WIM).</p>
            ) : (
              <Table columns={['Index', 'Name', 'Edition ID', 'Build', 'Architecture']}>
                {editionsOf(record.editions).map((e) => (
                  <tr key={`${e.index ?? ''}${e.name}`}>
                    <td class="num">{e.index ?? '—'}</td>
                    <td>{e.name}</td>
                    <td>{e.editionId ?? '—'}</td>
                    <td>{e.build ?? '—'}</td>
                    <td>{e.arch ?? '—'}</td>
                  </tr>
                ))}
              </Table>
            )}
          </section>
          <section aria-labelledby="lineage">
            <h2 id="lineage">Lineage</h2>
            <ol class="lineage">
              <li>
                <span class="step-label">Source ISO</span>
                {record.sourceIsoSha256 === null ? (
                  <span class="muted">none recorded</span>
                ) : (
                  <span class="mono">sha256 {record.sourceIsoSha256}</span>
                )}
              </li>
              <li>
                <span class="step-label">Made from</span>
                {record.parentDigest === null ? (
                  <span class="muted">no parent image</span>
                ) : (
                  <span>
                    <span class="mono">{shortDigest(record.parentDigest)}</span>{' '}
                    <TagLinks
                      images={parents}
                      empty={partial ? '(not among the first images listed)' : '(no tag points at it now)'}
                    />
                  </span>
                )}
              </li>
              <li aria-current="true">
                <span class="step-label">This image</span>
                <span>
                  <span class="mono">{shortDigest(record.digest)}</span>, tagged{' '}
                  <TagLinks images={sameContent} empty={`${name}:${tag}`} />
                </span>
              </li>
              <li>
                <span class="step-label">Made from it</span>
                <TagLinks
                  images={children}
                  empty={partial ? 'none among the first images listed' : 'no image yet'}
                />
              </li>
            </ol>
            <ErrorNotice error={all.error} />
          </section>
          <section aria-labelledby="recipe">
            <h2 id="recipe">Recipe</h2>
            {recipe === null ? (
              <p class="muted">No recipe is recorded for this image.</p>
            ) : (
              <pre class="code-block" tabIndex={0} aria-label="The recipe">
                {recipe}
              </pre>
            )}
          </section>
          <p class="muted">
            A file browser and the diff between two versions are not in the console yet: use{' '}
            <code>winsmith image files</code> and <code>winsmith image diff</code>.
          </p>
        </>
      )}
    </>
  );
}
