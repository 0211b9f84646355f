// A table of records: its frame (which scrolls sideways on a narrow screen, not the page), its
// caption, its column headings, its rows.
import type { ComponentChildren } from 'preact';

/** A column's heading; a hidden one is read by screen readers only (a column of buttons). */
export type Column = string | { readonly label: string; readonly hidden: true };

export function Table({
  columns,
  caption,
  hiddenCaption = false,
  children,
}: {
  readonly columns: readonly Column[];
  readonly caption?: string;
  readonly hiddenCaption?: boolean;
  readonly children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table>
        {caption === undefined ? null : (
          <caption class={hiddenCaption ? 'visually-hidden' : undefined}>{caption}</caption>
        )}
        <thead>
          <tr>
            {columns.map((c) =>
              typeof c === 'string' ? (
                <th scope="col" key={c}>
                  {c}
                </th>
              ) : (
                <th scope="col" key={c.label}>
                  <span class="visually-hidden">{c.label}</span>
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
