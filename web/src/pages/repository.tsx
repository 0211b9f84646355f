// The repository's storage figures: the bytes of every stored image added up (logical) against the
// bytes its deduplicated chunks take (stored), as two bars, and their ratio.
import type { StoreStats } from '../api-types.ts';
import { ErrorNotice, PageTitle, Pending } from '../components/common.tsx';
import { formatBytes } from '../format.ts';
import { useLoad } from '../load.ts';

const WIDTH = 480;
const BAR = 28;
const LABEL = 90;

function StorageChart({ stats }: { readonly stats: StoreStats }) {
  const largest = Math.max(stats.logicalBytes, stats.storedBytes, 1);
  const bars = [
    { label: 'Logical', bytes: stats.logicalBytes, tone: 'logical' },
    { label: 'Stored', bytes: stats.storedBytes, tone: 'stored' },
  ];
  const span = WIDTH - LABEL - 110;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${WIDTH} ${bars.length * (BAR + 16) + 8}`}
      role="img"
      aria-labelledby="chart-title"
    >
      <title id="chart-title">
        Logical {formatBytes(stats.logicalBytes)} against stored {formatBytes(stats.storedBytes)}
      </title>
      {bars.map((b, i) => {
        const y = 8 + i * (BAR + 16);
        const width = Math.max(2, (b.bytes / largest) * span);
        return (
          <g key={b.label}>
            <text x={0} y={y + BAR / 2 + 5} class="chart-label">
              {b.label}
            </text>
            <rect x={LABEL} y={y} width={width} height={BAR} class={`bar ${b.tone}`} rx={3} />
            <text x={LABEL + width + 8} y={y + BAR / 2 + 5} class="chart-value">
              {formatBytes(b.bytes)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function RepositoryPage() {
  const stats = useLoad((api) => api.get<StoreStats>('/api/v1/store/stats'), []);
  const s = stats.data;
  const ratio = s === null || s.storedBytes === 0 ? null : s.logicalBytes / s.storedBytes;
  return (
    <>
      <PageTitle>Repository</PageTitle>
      <ErrorNotice error={stats.error} />
      {s === null ? (
        <Pending loaded={stats} what="the repository's figures" />
      ) : (
        <>
          <StorageChart stats={s} />
          <dl class="facts">
            <dt>Logical bytes</dt>
            <dd>
              {formatBytes(s.logicalBytes)} <span class="muted">(every stored image added up)</span>
            </dd>
            <dt>Stored bytes</dt>
            <dd>
              {formatBytes(s.storedBytes)} <span class="muted">(the chunks kept, each once)</span>
            </dd>
            <dt>Deduplication</dt>
            <dd>{ratio === null ? '—' : `${ratio.toFixed(2)} : 1`}</dd>
            <dt>Chunks</dt>
            <dd>{s.chunks.toLocaleString()}</dd>
            <dt>Artifacts</dt>
            <dd>{s.artifacts.toLocaleString()}</dd>
          </dl>
        </>
      )}
    </>
  );
}
