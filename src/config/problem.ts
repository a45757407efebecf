/** One thing wrong with a user's file, precise enough to fix without guessing. */
export interface Problem {
  /** Path of the file, relative to the project when possible. */
  readonly file: string;
  /** Dotted field path (`dependencies.0.maxLag`), or empty for the file as a whole. */
  readonly field: string;
  /** What is wrong, including what was expected and what was received. */
  readonly message: string;
  /** 1-based line in the file, when known (syntax errors). */
  readonly line?: number;
  readonly column?: number;
}

export function formatProblem(problem: Problem): string {
  const where = problem.line ? `${problem.file}:${problem.line}${problem.column ? `:${problem.column}` : ""}` : problem.file;
  return problem.field ? `${where}: ${problem.field}: ${problem.message}` : `${where}: ${problem.message}`;
}
