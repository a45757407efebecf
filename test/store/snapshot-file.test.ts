import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { openSnapshot } from "../../src/store/file/snapshot-file.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-snapshot-"));
  dirs.push(dir);
  return dir;
}

const empty = () => ({ format: 1 as const, seq: 0, runs: {} as Record<string, { id: string }> });

describe("snapshot files", () => {
  it("writes a whole, valid file and leaves no temporary file behind", () => {
    const dir = tempDir();
    const file = join(dir, "state.json");
    const db = openSnapshot(file, empty);
    expect(db.data).toEqual(empty());
    for (let seq = 1; seq <= 3; seq++) {
      db.data.seq = seq;
      db.data.runs[`r${seq}`] = { id: `r${seq}` };
      db.write();
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(db.data);
      expect(readdirSync(dir)).toEqual(["state.json"]);
    }
    expect(openSnapshot(file, empty).data).toEqual({ format: 1, seq: 3, runs: { r1: { id: "r1" }, r2: { id: "r2" }, r3: { id: "r3" } } });
  });

  it("replaces a temporary file a crash left behind", () => {
    const dir = tempDir();
    const file = join(dir, "state.json");
    writeFileSync(join(dir, ".state.json.tmp"), '{"format":1,"seq":9,"ru');
    const db = openSnapshot(file, empty);
    expect(db.data.seq).toBe(0);
    db.write();
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("refuses a file of the wrong shape, naming it and the field, and never writes over it", () => {
    const dir = tempDir();
    const file = join(dir, "state.json");
    const cases: [string, string][] = [
      ["null", "received null"],
      ["[1,2]", "received [1,2]"],
      ['"text"', 'received "text"'],
      ['{"format":2,"seq":0,"runs":{}}', "format: expected 1, received 2"],
      ['{"format":1,"runs":{}}', "seq: expected a number, received nothing"],
      ['{"format":1,"seq":0,"runs":[]}', "runs: expected an object, received []"],
      ['{"format":1,"seq":0,"runs":{"r1":5}}', "runs.r1: expected an object, received 5"],
    ];
    for (const [text, problem] of cases) {
      writeFileSync(file, text);
      expect(() => openSnapshot(file, empty), text).toThrow(StoreError);
      expect(() => openSnapshot(file, empty), text).toThrow(file);
      expect(() => openSnapshot(file, empty), text).toThrow(problem);
      expect(readFileSync(file, "utf8")).toBe(text);
    }
  });

  it("names the file when it cannot write it, and leaves no temporary file", () => {
    const dir = tempDir();
    // A directory where the snapshot belongs: the rename over it fails.
    const file = join(dir, "state.json");
    const db = openSnapshot(file, empty);
    mkdirSync(file);
    writeFileSync(join(file, "keep"), "");
    expect(() => db.write()).toThrow(file);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });
});
