// The end of a listing given a page at a time: how many records are shown (read out when it
// changes) and the button that shows more, while there are more.
import type { Paged } from '../paged.ts';

export function MoreButton({
  paged,
  what,
}: {
  readonly paged: Pick<Paged<unknown>, 'items' | 'more' | 'busy'>;
  readonly what: string;
}) {
  const shown = paged.items?.length ?? 0;
  const last = paged.more === null && !paged.busy;
  return (
    <p class="more">
      <span role="status">
        {last ? `All ${shown} ${what} shown.` : `${shown} ${what} shown, more to come.`}
      </span>
      {last ? null : (
        // aria-disabled rather than disabled while a page is read: the button keeps the focus.
        <button type="button" onClick={() => paged.more?.()} aria-disabled={paged.busy}>
          {paged.busy ? 'Loading…' : `More ${what}`}
        </button>
      )}
    </p>
  );
}
