/** `check` on a terminal: one table instead of a line and a log line per certificate. Loaded only on a terminal. */
import type { Precheck } from "../run/precheck.js";
import { DAY } from "../util/time.js";
import { colourFor, renderTable, type Colour, type Column } from "./table.js";

const time = (d: Date | null) => d?.toISOString().slice(0, 16).replace("T", " ") ?? "-";
const statusColour = (p: Precheck): Colour => (!p.decision.usable ? "red" : p.decision.renew ? "yellow" : "green");

function checkColumns(now: Date): Column<Precheck>[] {
  return [
    { header: "NAME", cell: (p) => p.config.name },
    { header: "STATUS", cell: (p) => (p.decision.status === "due" ? `due (${p.decision.dueReasons.join(", ")})` : p.decision.status), colour: statusColour },
    { header: "USABLE", cell: (p) => (p.decision.usable ? "yes" : "NO"), colour: (p) => (p.decision.usable ? null : "red") },
    { header: "NOT AFTER", cell: (p) => time(p.decision.notAfter) },
    { header: "DAYS", cell: (p) => (p.decision.notAfter ? String(Math.floor((p.decision.notAfter.getTime() - now.getTime()) / DAY)) : "-"), colour: (p) => (p.decision.notAfter ? statusColour(p) : null), drop: 2 },
    { header: "RENEW AT", cell: (p) => (p.decision.renewAt ? `${time(p.decision.renewAt)}${p.decision.renewAtSource === "ari" ? " (ARI)" : ""}` : "-"), drop: 1 },
    // A valid certificate's reasons repeat the columns before: only other findings are shown.
    { header: "WHY", cell: (p) => (p.decision.status === "valid" && !p.decision.renew ? "-" : p.decision.reasons.join("; ")), flex: true, drop: 0 },
  ];
}

/** The table for `out` (a terminal): fitted to its width, coloured unless NO_COLOR. */
export function checkTable(results: Precheck[], now: Date, out: { columns?: number; isTTY?: boolean }): string {
  return renderTable(checkColumns(now), results, { ...(out.columns ? { width: out.columns } : {}), colour: colourFor(out) });
}
