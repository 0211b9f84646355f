// A strict reader of Prometheus's text exposition format (version 0.0.4, "Exposition formats" of
// the Prometheus documentation), for tests of GET /metrics: every line is a HELP, a TYPE, another
// comment, or a sample whose family was typed before it; names, labels, escapes and values follow
// the grammar; a series appears once; a histogram's buckets grow with `le` and end in +Inf, which
// equals its _count. Anything else throws, naming the line.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly type: MetricType;
  help: string | null;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** A value as Go's strconv.ParseFloat reads it (the format says so): Inf and NaN in any case. */
function parseValue(text: string, where: string): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf' || special === '+infinity' || special === 'infinity')
    return Infinity;
  if (special === '-inf' || special === '-infinity') return -Infinity;
  if (special === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value '${text}'`);
  return Number(text);
}

/** The labels of `{a="x",b="y"}` from `at` (the '{'); returns them and the index after '}'. */
function parseLabels(line: string, at: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label ${name} value not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = line[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${e ?? ''}`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label ${name}`);
  }
  return [labels, i + 1];
}

/** The family a sample name belongs to, by the suffixes its type allows. */
function familyOf(name: string, families: ReadonlyMap<string, MetricFamily>): string | undefined {
  if (families.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
}

function checkHistogram(name: string, family: MetricFamily): void {
  const groups = new Map<string, { le: number; value: number }[]>();
  const counts = new Map<string, number>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    if (s.name === `${name}_bucket`) {
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      groups.set(key, [...(groups.get(key) ?? []), { le: parseValue(le, name), value: s.value }]);
    } else if (s.name === `${name}_count`) counts.set(key, s.value);
  }
  for (const [key, buckets] of groups) {
    const sorted = [...buckets].sort((a, b) => a.le - b.le);
    sorted.forEach((b, i) => {
      if (i > 0 && b.value < (sorted[i - 1]?.value ?? 0)) throw new Error(`${name}${key}: buckets decrease`);
    });
    const last = sorted.at(-1);
    if (last?.le !== Infinity) throw new Error(`${name}${key}: no +Inf bucket`);
    if (counts.get(key) !== last.value) throw new Error(`${name}${key}: +Inf bucket is not _count`);
  }
}

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the text does not end with a line feed');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return;
      const [, kind = '', name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      if (kind === 'TYPE') {
        const type = TYPES.find((t) => t === rest);
        if (type === undefined) throw new Error(`${where}: unknown type '${rest}'`);
        const had = families.get(name);
        if (had !== undefined && (had.type !== 'untyped' || had.samples.length > 0))
          throw new Error(`${where}: TYPE of ${name} again or after its samples`);
        families.set(name, { type, help: had?.help ?? null, samples: [] });
      } else {
        const family = families.get(name) ?? { type: 'untyped', help: null, samples: [] };
        if (family.help !== null) throw new Error(`${where}: HELP of ${name} twice`);
        family.help = rest;
        families.set(name, family);
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: expected a sample`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
    const [labels, after] = line[nameEnd] === '{' ? parseLabels(line, nameEnd, where) : [{}, nameEnd];
    const fields = line.slice(after).split(' ');
    if (fields[0] !== '' || fields.length < 2 || fields.length > 3)
      throw new Error(`${where}: expected ' VALUE [TIMESTAMP]'`);
    const value = parseValue(fields[1] ?? '', where);
    if (fields[2] !== undefined && !/^-?\d+$/.test(fields[2])) throw new Error(`${where}: bad timestamp`);
    const familyName = familyOf(name, families);
    const family = familyName === undefined ? undefined : families.get(familyName);
    if (family === undefined) throw new Error(`${where}: ${name} has no TYPE before it`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new Error(`${where}: series ${key} twice`);
    seen.add(key);
    family.samples.push({ name, labels, value });
  });
  for (const [name, family] of families) if (family.type === 'histogram') checkHistogram(name, family);
  return families;
}

/** The value of the one sample `name` with exactly `labels`; throws when there is none. */
export function sampleValue(
  families: ReadonlyMap<string, MetricFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const family = families.get(familyOf(name, families) ?? name);
  const want = seriesKey(name, labels);
  const found = family?.samples.find((s) => seriesKey(s.name, s.labels) === want);
  if (found === undefined) throw new Error(`no sample ${want}`);
  return found.value;
}
