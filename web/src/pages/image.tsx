// One image: what it is (digest, size, SHA-256, who pushed it), its editions, its lineage as a
// graph (the ISO it was installed from, the images it was made from, the tags that point at it,
// the images made from it), the recipe that made it, its files a folder at a time, and what
// differs between it and another image.
import { useState } from 'preact/hooks';
import type { Build, ImagePage, ImageRecord } from '../api-types.ts';
import { segment } from '../api.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { FileBrowser } from '../components/file-browser.tsx';
import { ImageDiffView } from '../components/image-diff.tsx';
import { LineageGraph } from '../components/lineage-graph.tsx';
import { Table } from '../components/table.tsx';
import { editionsOf } from '../editions.ts';
import { formatBytes, formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';

/** The most images one page of the listing gives (IMAGE_PAGE_MAX): enough to find a parent's tags. */
const LINEAGE_PAGE = 1000;

const WIM = 'application/x-wim';

/**
 * The recipe as it is shown: the YAML a recorded customization kept (one, or each of a chain, as
 * YAML documents), else the recorded value as JSON.
 */
function recipeText(recipe: unknown): string | null {
  if (recipe === null || recipe === undefined) return null;
  if (typeof recipe === 'string') return recipe;
  const yaml = (r: unknown): string | null =>
    typeof r === 'object' && r !== null && 'recipe' in r && typeof r.recipe === 'string' ? r.recipe : null;
  const recorded = (Array.isArray(recipe) ? recipe : [recipe]).map(yaml);
  if (recorded.every((r) => r !== null)) return recorded.join('---\n');
  return JSON.stringify(recipe, null, 2);
}

export function ImagePage({ name, tag }: { readonly name: string; readonly tag: string }) {
  const image = useLoad(
    (api) => api.get<ImageRecord>(`/api/v1/images/${segment(name)}/tags/${segment(tag)}`),
    [name, tag],
  );
  const all = useLoad((api) => api.get<ImagePage>(`/api/v1/images?limit=${LINEAGE_PAGE}`), []);
  const builds = useLoad((api) => api.get<{ builds: Build[] }>('/api/v1/builds'), []);
  const record = image.data;
  const others = all.data?.images ?? [];
  const [edition, setEdition] = useState(1);
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
            <LineageGraph
              record={record}
              images={others}
              partial={partial}
              builds={builds.data?.builds ?? []}
            />
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
          {record.mediaType !== WIM || record.editions.length === 0 ? null : (
            <>
              {record.editions.length < 2 ? null : (
                <p class="actions">
                  <label for="edition">Edition</label>
                  <select
                    id="edition"
                    value={edition}
                    onChange={(e) => setEdition(Number((e.target as HTMLSelectElement).value))}
                  >
                    {editionsOf(record.editions).map((e, i) => (
                      <option key={i} value={e.index ?? i + 1}>
                        {e.index ?? i + 1}: {e.name}
                      </option>
                    ))}
                  </select>
                </p>
              )}
              <section aria-labelledby="files">
                <h2 id="files">Files</h2>
                <FileBrowser name={name} tag={tag} index={edition} />
              </section>
              <section aria-labelledby="diff">
                <h2 id="diff">Compare</h2>
                <ImageDiffView name={name} tag={tag} index={edition} images={others} />
              </section>
            </>
          )}
        </>
      )}
    </>
  );
}
