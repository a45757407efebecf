import { describe, expect, it } from "vitest";
import { expectNoStackTrace, projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

// A package.json without "type": "module" makes Node read .ts and .js job files as
// CommonJS; Node's own error for that ("Cannot require() ES Module … in a cycle") says
// nothing of the fix, so stau says it instead.

const project = projectFactory();

const JOB = `import { defineJob } from "stau";
export default defineJob({ async run({ log }) { log("ran"); } });
`;

describe("job files in a CommonJS package", () => {
  it("validate and run exit 2 naming the files and the package.json to fix", async () => {
    const p = project({ "package.json": JSON.stringify({ name: "cjs", private: true }), "jobs/one.ts": JOB, "jobs/two.js": JOB });
    for (const args of [["validate"], ["run", "one", ...WORKERS]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain(`jobs/one.ts and jobs/two.js use import/export, but Node loads them as CommonJS: package.json has no "type": "module"`);
      expect(result.stderr).toContain(`hint: add "type": "module" to package.json`);
      expect(result.stderr + result.stdout).not.toContain("Cannot require()");
      expectNoStackTrace(result);
    }
  });

  it('names "type": "commonjs" and only the files it breaks; .mts jobs load', async () => {
    const p = project({ "package.json": JSON.stringify({ name: "cjs", type: "commonjs" }), "jobs/one.ts": JOB, "jobs/fine.mts": JOB });
    const result = await stau(p.dir, ["validate"]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain(`error: jobs/one.ts uses import/export, but Node loads it as CommonJS: package.json says "type": "commonjs"`);
    expect(result.stderr).not.toContain("fine.mts");
  });

  it("leaves a CommonJS package alone when its jobs load: .mts, and CommonJS .js", async () => {
    const p = project({
      "package.json": JSON.stringify({ name: "cjs", type: "commonjs" }),
      "jobs/one.mts": JOB,
      "jobs/two.js": `const { defineJob } = require("stau");\nmodule.exports = defineJob({ async run({ log }) { log("ran"); } });\n`,
    });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result).jobs).toEqual([
      { job: "one", ok: true },
      { job: "two", ok: true },
    ]);
  });
});
