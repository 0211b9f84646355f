// A YAML text to edit, with its line numbers beside it (a plain textarea: no editor library), and
// the line an error names marked. The server checks the text; its error's FILE:LINE:COLUMN says
// where (errorPosition), and "Go to line" puts the cursor there.
import { useRef } from 'preact/hooks';

export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** The line and column an error message starts with (`web.yaml:3:10: …`), or null. */
export function errorPosition(message: string): TextPosition | null {
  const found = /^[^\s:]+:(\d+):(\d+): /.exec(message);
  return found === null ? null : { line: Number(found[1]), column: Number(found[2]) };
}

/** The offsets of `line` (from 1) in `text`. */
function lineRange(text: string, line: number): { start: number; end: number } {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf('\n', start);
    if (next === -1) break;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  return { start, end: end === -1 ? text.length : end };
}

export function YamlEditor({
  id,
  label,
  value,
  onInput,
  errorLine,
  describedBy,
}: {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
  readonly errorLine: number | null;
  readonly describedBy: string;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const count = value.split('\n').length;
  return (
    <div class="yaml-editor">
      <label for={id}>{label}</label>
      <div class="yaml-frame">
        <div class="gutter" aria-hidden="true" ref={gutter}>
          {Array.from({ length: count }, (_, i) => (
            <span key={i} class={i + 1 === errorLine ? 'error-line' : undefined}>
              {i + 1}
            </span>
          ))}
        </div>
        <textarea
          id={id}
          value={value}
          wrap="off"
          spellcheck={false}
          autocomplete="off"
          rows={Math.min(28, Math.max(8, count + 1))}
          aria-invalid={errorLine !== null}
          aria-describedby={describedBy}
          onInput={(e) => onInput(e.currentTarget.value)}
          onScroll={(e) => {
            if (gutter.current !== null) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
        />
      </div>
    </div>
  );
}

/** Puts the cursor on `line` of the editor `id`, the line selected, and scrolls it into view. */
export function goToLine(id: string, line: number): void {
  const area = document.getElementById(id);
  if (!(area instanceof HTMLTextAreaElement)) return;
  const { start, end } = lineRange(area.value, line);
  area.focus();
  area.setSelectionRange(start, end);
  const height = parseFloat(getComputedStyle(area).lineHeight) || 20;
  area.scrollTop = Math.max(0, (line - 3) * height);
}
