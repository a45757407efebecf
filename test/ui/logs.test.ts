import { describe, expect, test } from "vitest";
import type { EngineEventEntry } from "../../src/ui/actions.js";
import type { LogLine } from "../../src/console/contract.js";
import { visibleLogRows } from "../../src/ui/log-view.js";
import { appendLogs, applyTail, initialLogs, LOG_CAPACITY, scrollLogs, setScope } from "../../src/ui/logs-reducer.js";
import { reduce } from "../../src/ui/reducer.js";
import type { LogsState } from "../../src/ui/state.js";
import { chunk, job, NOW, run, snapshot } from "./fixtures.js";
import { apply, cmd, start, typed } from "./helpers.js";

const line = (text: string, jobName = "a", chunkId = `r1.${jobName}.0`) => ({ job: jobName, chunkId, attempt: 1, at: NOW, level: "info", text });
const withLines = (n: number, logs: LogsState = initialLogs()) => appendLogs(logs, Array.from({ length: n }, (_, i) => line(`line ${i}`, i % 2 ? "b" : "a")));
const texts = (logs: LogsState, height = 5, width = 200) => visibleLogRows(logs, height, width).map((r) => r.text);

describe("log ring buffer", () => {
  test("keeps at most LOG_CAPACITY lines, dropping the oldest", () => {
    let logs = withLines(LOG_CAPACITY - 10);
    logs = appendLogs(logs, Array.from({ length: 100 }, (_, i) => line(`new ${i}`)));
    expect(logs.lines.length).toBe(LOG_CAPACITY);
    expect(logs.lines.at(-1)?.text).toBe("new 99");
    expect(logs.lines[0].text).toBe("line 90");
    const huge = appendLogs(logs, Array.from({ length: LOG_CAPACITY * 2 }, (_, i) => line(`flood ${i}`)));
    expect(huge.lines.length).toBe(LOG_CAPACITY);
    expect(huge.lines[0].text).toBe(`flood ${LOG_CAPACITY}`);
  });

  test("live chunk:log events land with their job (from the chunk), chunk and attempt", () => {
    const s = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running")] }] });
    const events: EngineEventEntry[] = [{ name: "chunk:log", payload: { chunkId: "r1.a.0", attempt: 2, level: "warn", text: "hello" } }];
    const state = reduce(start(s), { type: "events", events, at: NOW });
    expect(state.logs.lines).toEqual([expect.objectContaining({ job: "a", chunkId: "r1.a.0", attempt: 2, level: "warn", text: "hello" })]);
    const rows = visibleLogRows(state.logs, 5, 200);
    // The tag `stau logs` writes (attemptTag), with the chunk as the panes name it.
    expect(rows[0].prefix).toMatch(/^\d\d:\d\d:\d\d \[a\.0#2\] $/);
  });
});

describe("follow", () => {
  test("following shows the newest lines as they arrive", () => {
    let logs = withLines(20);
    expect(texts(logs).at(-1)).toBe("line 19");
    logs = appendLogs(logs, [line("fresh")]);
    expect(texts(logs).at(-1)).toBe("fresh");
  });

  test("scrolling up pauses follow and keeps the view still while lines arrive", () => {
    let logs = scrollLogs(withLines(20), -3, 5);
    expect(logs.follow).toBe(false);
    const before = texts(logs);
    expect(before.at(-1)).toBe("line 16");
    logs = appendLogs(logs, [line("fresh 1"), line("fresh 2")]);
    expect(texts(logs)).toEqual(before);
  });

  test("scrolling back down to the newest line resumes follow", () => {
    let logs = scrollLogs(withLines(20), -2, 5);
    logs = scrollLogs(logs, 1, 5);
    expect(logs.follow).toBe(false);
    logs = scrollLogs(logs, 1, 5);
    expect(logs.follow).toBe(true);
  });

  test("up in the Logs pane pauses follow even when everything fits; f resumes", () => {
    let state = apply(start(snapshot()), cmd("prev-pane"));
    expect(state.focus).toBe("logs");
    state = { ...state, logs: withLines(2, state.logs) };
    state = reduce(state, cmd("up"));
    expect(state.logs.follow).toBe(false);
    state = reduce(state, cmd("follow"));
    expect(state.logs.follow).toBe(true);
  });

  test("Home shows the first page, not a lone first line", () => {
    const logs = scrollLogs(withLines(50), -Infinity, 5);
    expect(texts(logs)).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
  });
});

describe("search, scope and wrap", () => {
  test("/ focuses Logs and types a query that filters lines; Esc drops it", () => {
    let state = apply(start(snapshot()), cmd("search"), typed("1"), typed("5"));
    expect(state.focus).toBe("logs");
    expect(state.logs).toMatchObject({ editing: true, query: "15" });
    state = { ...state, logs: withLines(40, state.logs) };
    expect(texts(state.logs)).toEqual(["line 15"]);
    state = reduce(state, cmd("search-erase"));
    expect(state.logs.query).toBe("1");
    state = reduce(state, cmd("search-commit"));
    expect(state.logs).toMatchObject({ editing: false, query: "1" });
    expect(texts(state.logs, 20).every((t) => t.includes("1"))).toBe(true);
    expect(reduce(state, cmd("clear-search")).logs.query).toBe("");
  });

  test("search is case-insensitive", () => {
    const logs = { ...appendLogs(initialLogs(), [line("Loading UNITS"), line("other")]), query: "units" };
    expect(texts(logs)).toEqual(["Loading UNITS"]);
  });

  test("l shows the selected job's logs and reads its tail; a shows all, each tagged with its chunk", () => {
    let state = reduce(start(snapshot({ jobs: [job("a"), job("b")] })), cmd("logs-selected"));
    expect(state.focus).toBe("logs");
    expect(state.logs.scope).toBe("a");
    expect(state.effects).toEqual([{ type: "log-tail", job: "a", lines: expect.any(Number), request: state.logs.request!.id }]);
    state = { ...state, logs: appendLogs(state.logs, [line("from a", "a"), line("from b", "b")]) };
    expect(texts(state.logs)).toEqual(["from a"]);
    state = reduce(state, cmd("logs-all"));
    expect(state.logs.scope).toBeNull();
    expect(visibleLogRows(state.logs, 5, 200).map((r) => r.prefix.split(" ")[1])).toEqual(["[a.0#1]", "[b.0#1]"]);
  });

  test("a tail answer replaces the buffer without doubling lines that also arrived live", () => {
    let logs = setScope(withLines(3), "a", 7);
    logs = appendLogs(logs, [line("live 1"), line("live 2")]);
    const tail: LogLine[] = [line("old 1"), line("old 2"), line("live 1")];
    logs = applyTail(logs, 7, tail);
    expect(logs.lines.map((l) => l.text)).toEqual(["old 1", "old 2", "live 1", "live 2"]);
    expect(logs.request).toBeNull();
    // An answer to an older request changes nothing.
    expect(applyTail(logs, 3, [line("stale")])).toBe(logs);
  });

  test("w wraps long lines onto more rows; without it each line is one row", () => {
    const logs = appendLogs(initialLogs(), [line("x".repeat(100))]);
    expect(visibleLogRows(logs, 10, 40)).toHaveLength(1);
    const wrapped = visibleLogRows({ ...logs, wrap: true }, 10, 40);
    expect(wrapped.length).toBeGreaterThan(2);
    expect(wrapped.every((r) => r.prefix.length + r.text.length <= 40)).toBe(true);
    expect(wrapped.map((r) => r.text).join("")).toBe("x".repeat(100));
  });

  test("never more rows than asked, wrapped or not", () => {
    const logs = appendLogs(initialLogs(), Array.from({ length: 100 }, () => line("y".repeat(300))));
    expect(visibleLogRows(logs, 10, 50)).toHaveLength(10);
    // Wrapped lines take several rows each; the last one that fits is cut, not overflowing.
    expect(visibleLogRows({ ...logs, wrap: true }, 10, 50)).toHaveLength(10);
    expect(visibleLogRows(scrollLogs({ ...logs, wrap: true }, -Infinity, 10), 10, 50)).toHaveLength(10);
  });

  test("escape sequences in job output cannot move the cursor", () => {
    const logs = appendLogs(initialLogs(), [line("\u001b[2J\u001b[31mred\u001b[0m\ttab\rcr")]);
    expect(texts(logs)).toEqual(["red  tabcr"]);
  });
});
