import { describe, expect, it } from "vitest";
import { readConfigBlock } from "../../src/programs/config-block.js";

// The `# /// stau` block of a program: its TOML, and the line of each field for problems.

describe("a program's config block", () => {
  it("reads the TOML between the markers, with the file line of every field", () => {
    const text = [
      "#!/usr/bin/env python3", // 1
      "# /// script", // 2: uv's block, not ours
      '# dependencies = ["requests"]', // 3
      "# ///", // 4
      "# /// stau", // 5
      "# chunkSize = 25", // 6
      '# "timeout" = "20m"', // 7
      "#", // 8
      "# [[dependencies]]", // 9
      '# job = "a"', // 10
      '# maxLag = "1h"', // 11
      "# [[dependencies]]", // 12
      '# job = "b"', // 13
      "# kwargs.window = 3", // 14
      "# ///", // 15
      "import os", // 16
    ].join("\n");
    const block = readConfigBlock(text);
    if (!block.ok) throw new Error(JSON.stringify(block.problems));
    expect(block.config).toEqual({ chunkSize: 25, timeout: "20m", dependencies: [{ job: "a", maxLag: "1h" }, { job: "b", kwargs: { window: 3 } }] });
    expect(Object.fromEntries(block.lines)).toEqual({
      chunkSize: 6,
      timeout: 7,
      dependencies: 9,
      "dependencies.0": 9,
      "dependencies.0.job": 10,
      "dependencies.0.maxLag": 11,
      "dependencies.1": 12,
      "dependencies.1.job": 13,
      "dependencies.1.kwargs.window": 14,
    });
  });

  it("is every default without a block, and CRLF files read the same", () => {
    expect(readConfigBlock("echo hi\n")).toEqual({ ok: true, config: {}, lines: new Map() });
    const block = readConfigBlock("# /// stau\r\n# retries = 2\r\n# ///\r\n");
    expect(block.ok && block.config).toEqual({ retries: 2 });
  });

  it("names the line of a TOML error, an unclosed block and a second block", () => {
    expect(readConfigBlock("# /// stau\n# retries = 2\n# retries = 3\n# ///\n")).toEqual({
      ok: false,
      problems: [{ field: "", line: 3, message: expect.stringMatching(/^invalid TOML in the "# \/\/\/ stau" block: /) }],
    });
    expect(readConfigBlock("x = 1\n# /// stau\n# retries = 2\nprint(1)\n")).toEqual({
      ok: false,
      problems: [{ field: "", line: 2, message: expect.stringMatching(/block is not closed/) }],
    });
    expect(readConfigBlock("# /// stau\n# ///\n# /// stau\n# ///\n")).toEqual({
      ok: false,
      problems: [{ field: "", line: 3, message: 'a second "# /// stau" block (the first is on line 1); keep one' }],
    });
  });
});
