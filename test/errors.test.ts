import { describe, expect, it } from "vitest";
import { fileSystemError, StauError } from "../src/errors.js";

const systemError = (code: string, syscall: string, path: string) => Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, errno: -1 });

describe("fileSystemError", () => {
  it("names what stau tried, the path and what the condition means, exit 2", () => {
    const cases: [string, string, string][] = [
      ["EROFS", "open", "cannot open /data/state.json: the file system is read-only (EROFS)"],
      ["EACCES", "mkdir", "cannot create the directory /data/state.json: permission denied (EACCES)"],
      ["ENOTDIR", "scandir", "cannot list the directory /data/state.json: a part of the path is a file, not a directory (ENOTDIR)"],
      ["ENOSPC", "write", "cannot write /data/state.json: no space left on the device (ENOSPC)"],
    ];
    for (const [code, syscall, message] of cases) {
      const error = fileSystemError(systemError(code, syscall, "/data/state.json"));
      expect(error).toBeInstanceOf(StauError);
      expect(error!.message).toBe(message);
      expect(error!.exitCode).toBe(2);
      expect(error!.hint).toBeTruthy();
    }
    expect(fileSystemError(systemError("EACCES", "open", "/x"), { what: "the data directory", hint: "chmod it" })).toMatchObject({ message: "cannot open /x (the data directory): permission denied (EACCES)", hint: "chmod it" });
  });

  it("leaves everything else alone: other codes, errors without a path, non-errors", () => {
    expect(fileSystemError(systemError("EIO", "read", "/x"))).toBeNull();
    expect(fileSystemError(Object.assign(new Error("kill"), { code: "EPERM", syscall: "kill" }))).toBeNull();
    expect(fileSystemError(new TypeError("x is undefined"))).toBeNull();
    expect(fileSystemError(null)).toBeNull();
    expect(fileSystemError("EACCES")).toBeNull();
    expect(fileSystemError(new StauError("usage", "already a StauError"))).toBeNull();
  });
});
