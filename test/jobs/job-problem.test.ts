import { describe, expect, it } from "vitest";
import { jobProblem, type JobNames } from "../../src/jobs/load.js";

const names: JobNames = {
  jobs: new Map([["daily_stats", {}], ["fetch_orders", {}]]),
  broken: new Map([["flaky", [{ file: "jobs/flaky.ts", field: "", message: "Unexpected token", line: 3 }]]]),
  fileProblems: [
    { file: "jobs/dup.js", field: "", message: 'job name "dup" is used by jobs/dup.js and jobs/dup.ts; keep one' },
    { file: "jobs/dup.ts", field: "", message: 'job name "dup" is used by jobs/dup.js and jobs/dup.ts; keep one' },
    { file: "jobs/my job.ts", field: "", message: 'job name "my job" may use only letters, digits, _ and -; rename the file' },
  ],
};

describe("jobProblem", () => {
  it("has nothing to say of a job that loads", () => {
    expect(jobProblem(names, "daily_stats")).toBeNull();
  });

  it("names both files of a name two files share", () => {
    const problem = jobProblem(names, "dup")!;
    expect(problem.kind).toBe("file");
    expect(problem.exitCode).toBe(2);
    expect(problem.message).toContain("jobs/dup.js");
    expect(problem.message).toContain("jobs/dup.ts");
    expect(problem.message).not.toContain("unknown");
  });

  it("names the file of a name a job cannot have", () => {
    const problem = jobProblem(names, "my job")!;
    expect(problem.kind).toBe("file");
    expect(problem.message).toContain("jobs/my job.ts");
  });

  it("gives a broken job's problems with file and line", () => {
    const problem = jobProblem(names, "flaky")!;
    expect(problem.kind).toBe("broken");
    expect(problem.message).toContain("jobs/flaky.ts:3: Unexpected token");
  });

  it("suggests the nearest name for a typo, and lists the jobs", () => {
    const typo = jobProblem(names, "daly_stats")!;
    expect(typo.kind).toBe("unknown");
    expect(typo.message).toBe('unknown job "daly_stats"; did you mean "daily_stats"?');
    expect(typo.nearest).toBe("daily_stats");
    expect(typo.hint).toBe("jobs are the files in jobs/: daily_stats, fetch_orders, flaky");
    expect(jobProblem(names, "FLAKEY")!.nearest).toBe("flaky");
    // Nothing close: no guess.
    const far = jobProblem(names, "weekly_report")!;
    expect(far.message).toBe('unknown job "weekly_report"');
    expect(far.nearest).toBeNull();
  });
});
