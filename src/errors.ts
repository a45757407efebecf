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

/**
 * File-system failures a user causes and fixes (permissions, a read-only or full disk, a
 * file where a directory belongs), each with what it means. Anything else from the file
 * system is unexpected and stays an error of stau.
 */
const USER_FILE_CONDITIONS: Readonly<Record<string, { meaning: string; hint: string }>> = {
  EACCES: { meaning: "permission denied", hint: "give the user running stau access to it (or run stau as a user who has it)" },
  EPERM: { meaning: "operation not permitted", hint: "give the user running stau access to it (or run stau as a user who has it)" },
  EROFS: { meaning: "the file system is read-only", hint: "use a writable location (for the data directory: --data DIR or STAU_DATA_DIR)" },
  ENOTDIR: { meaning: "a part of the path is a file, not a directory", hint: "move that file away, or choose another path (for the data directory: --data DIR or STAU_DATA_DIR)" },
  EISDIR: { meaning: "it is a directory, not a file", hint: "move that directory away; stau keeps a file there" },
  ENOSPC: { meaning: "no space left on the device", hint: "free some space on that disk, then try again" },
  EDQUOT: { meaning: "the disk quota is used up", hint: "free some space within the quota, then try again" },
  ENAMETOOLONG: { meaning: "the path is too long", hint: "choose a shorter path (for the data directory: --data DIR or STAU_DATA_DIR)" },
  ELOOP: { meaning: "too many symbolic links (a link loop?)", hint: "fix the symbolic links on that path" },
};

const VERBS: Readonly<Record<string, string>> = {
  mkdir: "create the directory",
  open: "open",
  read: "read",
  write: "write",
  scandir: "list the directory",
  rename: "rename",
  unlink: "remove",
  stat: "look at",
  lstat: "look at",
  fsync: "sync",
  ftruncate: "truncate",
  access: "access",
  chmod: "change the mode of",
  listen: "listen on",
};

/**
 * A file-system error a user can fix, as a StauError (exit 2) naming what stau tried, the
 * path and what it means; null for anything else. `what` says what the path is for
 * people ("the data directory", "the jobs folder"), and `hint` replaces the generic one.
 */
export function fileSystemError(error: unknown, options: { what?: string; hint?: string } = {}): StauError | null {
  const condition = fileCondition(error);
  if (!condition) return null;
  // A socket's path comes as `address` (listen, connect); a file's as `path`.
  const { syscall, path = (error as { address?: string }).address } = error as NodeJS.ErrnoException;
  if (syscall === undefined || path === undefined) return null;
  const verb = VERBS[syscall] ?? syscall;
  const what = options.what ? ` (${options.what})` : "";
  return new StauError("file_access", `cannot ${verb} ${path}${what}: ${condition.meaning} (${condition.code})`, { hint: options.hint ?? condition.hint, exitCode: 2, cause: error });
}

/** What a file-system error a user can fix means, and what to do; null for anything else. */
export function fileCondition(error: unknown): { code: string; meaning: string; hint: string } | null {
  if (error instanceof StauError || !(error instanceof Error)) return null;
  const code = (error as NodeJS.ErrnoException).code;
  const condition = code === undefined ? undefined : USER_FILE_CONDITIONS[code];
  return condition && code ? { code, ...condition } : null;
}
