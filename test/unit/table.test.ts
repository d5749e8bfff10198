/** The table renderer behind check and status: whole when plain, fitted and coloured on a terminal. Pure. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { colourFor, renderTable, type Column } from "../../src/report/table.js";

type R = { n: string; s: string; note: string; x: string };
const COLS: Column<R>[] = [
  { header: "NAME", cell: (r) => r.n },
  { header: "STATE", cell: (r) => r.s, colour: (r) => (r.s === "ok" ? "green" : "red") },
  { header: "X", cell: (r) => r.x, drop: 2 },
  { header: "NOTE", cell: (r) => r.note, flex: true, drop: 0 },
];
const ROWS: R[] = [
  { n: "a.example.com", s: "ok", note: "-", x: "-" },
  { n: "b.example.com", s: "bad", note: "the key does not belong to the certificate", x: "-" },
];

test("plain: every column as wide as its widest cell, two spaces apart, the last one unpadded", () => {
  assert.equal(
    renderTable(COLS, ROWS),
    ["NAME           STATE  X  NOTE", "a.example.com  ok     -  -", "b.example.com  bad    -  the key does not belong to the certificate", ""].join("\n"),
  );
});

test("fitted: a column that says nothing goes first, then the flexible one is cut with …; no line is wider", () => {
  const t = renderTable(COLS, ROWS, { width: 44 });
  assert.equal(t, ["NAME           STATE  NOTE", "a.example.com  ok     -", "b.example.com  bad    the key does not belo…", ""].join("\n"));
  for (const l of t.split("\n")) assert.ok(l.length <= 44, l);
  // Narrower than the flexible column's floor (20): it goes too.
  assert.equal(renderTable(COLS, ROWS, { width: 24 }), ["NAME           STATE", "a.example.com  ok", "b.example.com  bad", ""].join("\n"));
});

test("colours: bold headers, coloured cells padded inside the colour (columns stay aligned)", () => {
  const t = renderTable(COLS.slice(0, 2), ROWS, { colour: true });
  assert.equal(t, ["\x1b[1mNAME         \x1b[0m  \x1b[1mSTATE\x1b[0m", "a.example.com  \x1b[32mok\x1b[0m", "b.example.com  \x1b[31mbad\x1b[0m", ""].join("\n"));
});

test("colourFor: a TTY only, and not with NO_COLOR or TERM=dumb", () => {
  assert.equal(colourFor({ isTTY: true }, {}), true);
  assert.equal(colourFor({ isTTY: false }, {}), false);
  assert.equal(colourFor({ isTTY: true }, { NO_COLOR: "1" }), false);
  assert.equal(colourFor({ isTTY: true }, { NO_COLOR: "" }), true, "NO_COLOR set but empty does not count (no-color.org)");
  assert.equal(colourFor({ isTTY: true }, { TERM: "dumb" }), false);
});
