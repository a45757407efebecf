import { describe, expect, it } from "vitest";
import { fieldLines, withFieldLines } from "../../src/config/field-lines.js";

// The line of each field of the literal a job or schedule file exports: what a config
// problem points at. Lines are 1-based, as editors count them.

const JOB = `import { defineJob } from "stau";
// chunkSize: 99 in a comment is not a field
const url = "https://example.com/{x}";
export default defineJob({
  chunkSize: 10,
  "retries": 3,
  dependencies: [
    { job: "a", maxLag: "1h" },
    {
      job: "b",
      maxLag: \`\${1 + 1}h\`,
    },
  ],
  async selectWork() {
    const re = /[}{]/g;
    const inner = { chunkSize: 5, timeout: 1 };
    return [1, 2];
  },
  async run({ log }) {
    log(\`done {\${"}"}\`);
  },
  timeout: "1m",
});
`;

describe("fieldLines", () => {
  it("names the line of every written-out field, nested ones by path", () => {
    const lines = fieldLines(JOB);
    expect(lines.get("chunkSize")).toBe(5);
    expect(lines.get("retries")).toBe(6);
    expect(lines.get("dependencies")).toBe(7);
    expect(lines.get("dependencies.0")).toBe(8);
    expect(lines.get("dependencies.0.maxLag")).toBe(8);
    expect(lines.get("dependencies.1")).toBe(9);
    expect(lines.get("dependencies.1.job")).toBe(10);
    expect(lines.get("dependencies.1.maxLag")).toBe(11);
    expect(lines.get("selectWork")).toBe(14);
    expect(lines.get("run")).toBe(19);
    // Brackets in regular expressions, template literals and code do not throw the count off.
    expect(lines.get("timeout")).toBe(22);
    // An object inside a function is code, not config.
    expect([...lines.keys()].filter((k) => k.endsWith("chunkSize"))).toEqual(["chunkSize"]);
  });

  it("numbers the entries of an exported array", () => {
    const lines = fieldLines(`import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "a", job: "x", every: "1h" },

  {
    id: "b",
    job: "y",
    every: "0",
  },
]);
`);
    expect(lines.get("0")).toBe(3);
    expect(lines.get("0.every")).toBe(3);
    expect(lines.get("1")).toBe(5);
    expect(lines.get("1.every")).toBe(8);
  });

  it("knows no lines for a config that is not written out after export default", () => {
    expect(fieldLines(`const config = { chunkSize: 1 };\nexport default defineJob(config);\nfunction f() { return { chunkSize: 2 }; }\n`).get("chunkSize")).toBeUndefined();
    expect(fieldLines(`const x = { chunkSize: 1 };\n`).size).toBe(0);
  });

  it("gives a problem the line of its field, or of the nearest field around it", () => {
    const problems = withFieldLines(
      [
        { file: "jobs/x.ts", field: "dependencies.1.maxLag", message: "bad" },
        { file: "jobs/x.ts", field: "dependencies.1.kwargs", message: "built at run time" },
        { file: "jobs/x.ts", field: "", message: "the file as a whole" },
        { file: "jobs/x.ts", field: "chunkSize", message: "already placed", line: 2 },
      ],
      JOB,
    );
    expect(problems.map((p) => p.line)).toEqual([11, 9, undefined, 2]);
  });
});
