/**
 * The StauError family: every error a user can cause carries a stable `code`, the
 * process exit code the CLI should use, and a `hint` saying what to do about it.
 * Only `cli/` turns them into printed messages and exit codes.
 */
export class StauError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StauError";
    this.code = code;
    this.exitCode = options.exitCode ?? 2;
    this.hint = options.hint;
  }
}

/** Bad command-line usage: unknown job, malformed --kwargs, and the like. Exit 2. */
export class UsageError extends StauError {
  constructor(message: string, hint?: string) {
    super("usage", message, { hint, exitCode: 2 });
    this.name = "UsageError";
  }
}

/** A problem in the user's project: job files, schedule file, config values. Exit 2. */
export class ConfigError extends StauError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super("config", message, { hint, exitCode: 2, cause });
    this.name = "ConfigError";
  }
}

/** The store cannot be used: a corrupt file, a data directory held by another process. */
export class StoreError extends StauError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { hint, exitCode: 2, cause });
    this.name = "StoreError";
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
