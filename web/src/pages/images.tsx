// The stored images the user may read, a page at a time: name and tag, size, editions, who pushed
// them and when.
import type { ImageSummary } from '../api-types.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { MoreButton } from '../components/more.tsx';
import { Table } from '../components/table.tsx';
import { editionsOf } from '../editions.ts';
import { formatBytes, formatTime } from '../format.ts';
import { usePaged } from '../paged.ts';
import { href } from '../router.ts';

export function ImagesPage() {
  const images = usePaged<ImageSummary>('/api/v1/images', 'images');
  return (
    <>
      <PageTitle>Images</PageTitle>
      <ErrorNotice error={images.error} />
      {images.items === null ? (
        <Pending loaded={images} what="images" />
      ) : images.items.length === 0 ? (
        <p>No image is stored yet, or none you may read.</p>
      ) : (
        <>
          <Table
            columns={['Image', 'Size', 'Editions', 'Pushed by', 'Pushed']}
            caption="Stored images"
            hiddenCaption
          >
            {images.items.map((image) => (
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
          <MoreButton paged={images} what="images" />
        </>
      )}
    </>
  );
}
