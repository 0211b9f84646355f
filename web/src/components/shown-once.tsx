// A secret the server gives once (a new API token, a generated password): shown in a read-only
// field that selects itself whole, with a button that copies it. It lives in this component's
// state only: never in a URL, never stored, gone when the view is left or the page reloaded.
import { useEffect, useRef, useState } from 'preact/hooks';

export function ShownOnce({
  label,
  value,
  onDone,
}: {
  readonly label: string;
  readonly value: string;
  readonly onDone: () => void;
}) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const field = useRef<HTMLInputElement>(null);
  // The focus goes to the secret, selected: a keyboard or screen-reader user is told it is there.
  useEffect(() => field.current?.focus(), [value]);
  const copy = (): void => {
    // The clipboard API needs a secure context (HTTPS or localhost); elsewhere the field is there to select.
    navigator.clipboard.writeText(value).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="notice shown-once">
      <label>
        {label}
        <input
          ref={field}
          class="mono"
          readOnly
          value={value}
          spellcheck={false}
          autocomplete="off"
          onFocus={(e) => e.currentTarget.select()}
        />
      </label>
      <p>Shown only now: copy it before leaving this page. The server keeps no copy it could show again.</p>
      <div class="actions">
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
        <span role="status">
          {copied === true
            ? 'Copied.'
            : copied === false
              ? 'The browser refused to copy: select the text.'
              : ''}
        </span>
      </div>
    </div>
  );
}
