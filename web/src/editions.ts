// An image's editions as the API gives them (the WIM's XML, src/formats/wim/wim-xml.ts), read
// field by field: the API declares them as any JSON.

export interface Edition {
  readonly index: number | null;
  readonly name: string;
  readonly editionId: string | null;
  readonly build: string | null;
  readonly arch: string | null;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

const textOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function editionsOf(editions: readonly unknown[]): Edition[] {
  return editions.map((e, i) => {
    const index = field(e, 'index');
    return {
      index: typeof index === 'number' ? index : null,
      name: textOf(field(e, 'name')) ?? `edition ${i + 1}`,
      editionId: textOf(field(e, 'editionId')),
      build: textOf(field(e, 'build')),
      arch: textOf(field(e, 'arch')),
    };
  });
}
