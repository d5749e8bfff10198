/**
 * Tables for people: columns as wide as their widest cell, two spaces apart. On a terminal the table
 * fits its width (the least needed columns go first, then a flexible one is cut with "…") and
 * cells may be coloured; elsewhere it is plain and whole. Pure.
 */
export type Colour = "green" | "yellow" | "red" | "dim";

const SGR: Record<Colour | "bold", string> = { green: "32", yellow: "33", red: "31", dim: "2", bold: "1" };

export interface Column<R> {
  header: string;
  cell: (r: R) => string;
  colour?: (r: R) => Colour | null;
  /** Dropped to fit a narrow terminal: the highest first. */
  drop?: number;
  /** May be cut (with "…") to fit. */
  flex?: boolean;
}

export interface TableOptions {
  /** Fit this many columns of text (a terminal's width); none: as wide as it takes. */
  width?: number;
  colour?: boolean;
}

/** Colours only on a terminal, and not when NO_COLOR is set (https://no-color.org) or TERM=dumb. */
export function colourFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!stream.isTTY && !env.NO_COLOR && env.TERM !== "dumb";
}

const paint = (on: boolean, c: Colour | "bold" | null | undefined, s: string) => (on && c ? `\x1b[${SGR[c]}m${s}\x1b[0m` : s);

function cut(s: string, w: number): string {
  return s.length <= w ? s : `${s.slice(0, Math.max(0, w - 1))}…`;
}

export function renderTable<R>(columns: Column<R>[], rows: R[], o: TableOptions = {}): string {
  let cols = columns;
  const widthOf = (c: Column<R>) => Math.max(c.header.length, ...rows.map((r) => c.cell(r).length));
  const total = (cs: Column<R>[], ws: number[]) => ws.reduce((a, b) => a + b, 0) + 2 * (cs.length - 1);
  let widths = cols.map(widthOf);
  if (o.width !== undefined) {
    const limit = o.width;
    // Columns that say nothing for these rows ("-" or "0" everywhere) go before the others.
    const empty = (c: Column<R>) => rows.every((r) => ["-", "0", ""].includes(c.cell(r)));
    const rank = (c: Column<R>) => (empty(c) ? 1000 : 0) + c.drop!;
    for (;;) {
      const over = total(cols, widths) - limit;
      if (over <= 0) break;
      // First cut the flexible column (down to 20), then drop the least needed column, and again.
      const flex = cols.findIndex((c) => c.flex);
      const floor = flex >= 0 ? Math.min(widths[flex]!, Math.max(cols[flex]!.header.length, 20)) : 0;
      if (flex >= 0 && widths[flex]! - over >= floor) {
        widths[flex] = widths[flex]! - over;
        break;
      }
      const victim = cols.filter((c) => c.drop !== undefined).sort((a, b) => rank(b) - rank(a))[0];
      if (!victim) {
        if (flex >= 0) widths[flex] = floor;
        break;
      }
      cols = cols.filter((c) => c !== victim);
      widths = cols.map(widthOf);
    }
  }
  const line = (cells: string[], colours: Array<Colour | "bold" | null>) =>
    cells
      .map((v, i) => {
        const text = cut(v, widths[i]!);
        return paint(!!o.colour, colours[i], i === cells.length - 1 ? text : text.padEnd(widths[i]!));
      })
      .join("  ");
  const out = [line(cols.map((c) => c.header), cols.map(() => "bold"))];
  for (const r of rows) out.push(line(cols.map((c) => c.cell(r)), cols.map((c) => c.colour?.(r) ?? null)));
  return `${out.join("\n")}\n`;
}
