import { describe, expect, it } from "vitest";
import { kwargsKey } from "../../src/graph/kwargs-key.js";

describe("kwargsKey", () => {
  it("is {} for no kwargs", () => {
    expect(kwargsKey({})).toBe("{}");
  });

  it("sorts keys at every depth and keeps array order", () => {
    const a = kwargsKey({ b: 1, a: { y: [3, { d: 1, c: 2 }], x: null } });
    expect(a).toBe('{"a":{"x":null,"y":[3,{"c":2,"d":1}]},"b":1}');
    expect(kwargsKey({ a: { x: null, y: [3, { c: 2, d: 1 }] }, b: 1 })).toBe(a);
  });

  it("tells different values apart", () => {
    expect(kwargsKey({ a: 1 })).not.toBe(kwargsKey({ a: "1" }));
    expect(kwargsKey({ a: [1, 2] })).not.toBe(kwargsKey({ a: [2, 1] }));
  });
});
