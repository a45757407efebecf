import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";

// Reading history/runs.jsonl by bytes: its lines may be long and a block edge may fall
// inside a multi-byte character, so lines are found in buffers, never in whole-file text.

/** The 1-based number of the line starting at byte `offset` (counted only for damaged lines, which are rare). */
export function lineNumberAt(fd: number, offset: number): number {
  let newlines = 0;
  const block = Buffer.alloc(1 << 20);
  for (let at = 0; at < offset; ) {
    const read = readSync(fd, block, 0, Math.min(block.length, offset - at), at);
    if (read === 0) break;
    for (let i = 0; i < read; i++) if (block[i] === 10) newlines++;
    at += read;
  }
  return newlines + 1;
}

export function endsWithNewline(file: string): boolean {
  if (!existsSync(file)) return true;
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 10;
  } finally {
    closeSync(fd);
  }
}


export function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** The run id a history line starts with (`{"run":{"id":"…"`, as JSON.stringify writes an ArchivedRun), or null. */
export function idOfLine(line: string): string | null {
  return line.match(/^\{"run":\{"id":"([^"\\]+)"/)?.[1] ?? null;
}

/** The complete line starting at `offset` and the offset after its newline, or null. */
export function readLineAt(fd: number, offset: number): { text: string; end: number } | null {
  const chunks: Buffer[] = [];
  for (let at = offset; ; ) {
    const block = Buffer.alloc(64 * 1024);
    const read = readSync(fd, block, 0, block.length, at);
    if (read === 0) return null;
    const newline = block.subarray(0, read).indexOf(10);
    if (newline !== -1) {
      chunks.push(block.subarray(0, newline));
      const text = Buffer.concat(chunks);
      return { text: text.toString("utf8"), end: offset + text.length + 1 };
    }
    chunks.push(block.subarray(0, read));
    at += read;
  }
}

/** The complete lines from `offset` to the end, with where each starts, read in large blocks. */
export function* linesFrom(fd: number, offset: number): Generator<{ text: string; offset: number }> {
  let carry = Buffer.alloc(0);
  let start = offset;
  for (let at = offset; ; ) {
    const block = Buffer.alloc(1 << 20);
    const read = readSync(fd, block, 0, block.length, at);
    if (read === 0) return;
    at += read;
    const text = carry.length ? Buffer.concat([carry, block.subarray(0, read)]) : block.subarray(0, read);
    let from = 0;
    for (let nl = text.indexOf(10); nl !== -1; nl = text.indexOf(10, from)) {
      yield { text: text.toString("utf8", from, nl), offset: start };
      start += nl + 1 - from;
      from = nl + 1;
    }
    carry = Buffer.from(text.subarray(from));
  }
}
