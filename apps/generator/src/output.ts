// Where the CLI's output goes, and the conventions every command shares: a reader that closes the pipe
// early (`coupons export ... | head -1`) ends the output quietly with exit 0; times are printed in UTC
// ISO 8601 unless --local-time asks for the machine's zone (still ISO 8601, with its offset).
let stdoutClosed = false;
let localTime = false;
const watched = new WeakSet<NodeJS.WriteStream>();

/** Watches stdout once: EPIPE (the reader went away) marks it closed instead of crashing the process. */
export function watchStdout(stream: NodeJS.WriteStream = process.stdout): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") stdoutClosed = true;
    else throw err;
  });
}

/** Whether the reader of stdout has gone away. */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Whether an error (or one of its causes) is the closed pipe of stdout (not, say, a database
 *  connection's EPIPE: stdout must have said it was closed). */
export function isBrokenPipe(err: unknown): boolean {
  if (!stdoutClosed) return false;
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") return true;
  }
  return false;
}

/** --local-time: print times in this machine's zone. */
export function setLocalTime(on: boolean): void {
  localTime = on;
}

/** The zone the times are printed in, for table headers. */
export function timeZoneLabel(): string {
  return localTime ? "local" : "UTC";
}

/** A time for people: UTC ISO 8601 (2026-12-01T11:04:48.000Z), or with --local-time the same in the
 *  machine's zone with its offset (2026-12-01T12:04:48.000+01:00). */
export function formatTime(d: Date): string {
  if (!localTime) return d.toISOString();
  const offsetMin = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, -1);
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** Terminal escapes (colours, a progress bar) only on a terminal and never with NO_COLOR set. */
export function escapesAllowed(stream: NodeJS.WriteStream, env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(stream.isTTY) && (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb";
}

/** A table for people: the header row, then the rows, columns padded to their widest cell and two
 *  spaces apart (the last column is not padded). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length)));
  return table.map((cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
