// The stored images the user may read, a page at a time: name and tag, size, editions, who pushed
// them and when.
import { useState } from 'preact/hooks';
import type { ImagePage, ImageSummary } from '../api-types.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { Table } from '../components/table.tsx';
import { useConsole } from '../context.ts';
import { editionsOf } from '../editions.ts';
import { formatBytes, formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';

const PAGE_SIZE = 100;

export function ImagesPage() {
  const { api } = useConsole();
  const first = useLoad((a) => a.get<ImagePage>(`/api/v1/images?limit=${PAGE_SIZE}`), []);
  const [more, setMore] = useState<{ images: readonly ImageSummary[]; next: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const images = [...(first.data?.images ?? []), ...(more?.images ?? [])];
  const next = more === null ? (first.data?.next ?? null) : more.next;
  const loadMore = (): void => {
    if (next === null) return;
    api
      .get<ImagePage>(`/api/v1/images?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(next)}`)
      .then(
        (page) => setMore({ images: [...(more?.images ?? []), ...page.images], next: page.next }),
        setError,
      );
  };
  return (
    <>
      <PageTitle>Images</PageTitle>
      <ErrorNotice error={first.error ?? error} />
      {first.data === null ? (
        <Pending loaded={first} what="images" />
      ) : images.length === 0 ? (
        <p>No image is stored yet, or none you may read.</p>
      ) : (
        <Table
          columns={['Image', 'Size', 'Editions', 'Pushed by', 'Pushed']}
          caption="Stored images"
          hiddenCaption
        >
          {images.map((image) => (
            <tr key={`${image.name}:${image.tag}`}>
              <td>
                <a href={href('images', image.name, image.tag)}>
                  {image.name}:<strong>{image.tag}</strong>
                </a>
              </td>
              <td class="num">{formatBytes(image.size)}</td>
              <td>
                {editionsOf(image.editions)
                  .map((e) => e.name)
                  .join(', ') || '—'}
              </td>
              <td>{image.pushedBy ?? '—'}</td>
              <td>{formatTime(image.pushedAt)}</td>
            </tr>
          ))}
        </Table>
      )}
      {next === null ? null : (
        <button type="button" onClick={loadMore}>
          More images
        </button>
      )}
    </>
  );
}
