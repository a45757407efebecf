import { describe, expect, it } from "vitest";
import { WriteRoute } from "../../src/store/file/write-route.js";

describe("the journal's write route", () => {
  it("starts by the thread pool, and writes inline once a write by it saw nothing gather and was quick", () => {
    const route = new WriteRoute();
    expect(route.inline()).toBe(false);
    route.wroteByPool(0.4, false);
    expect(route.inline()).toBe(true);
  });

  it("stays with the thread pool while lines gather during its writes (a busy engine)", () => {
    const route = new WriteRoute();
    route.wroteByPool(0.4, true);
    expect(route.inline()).toBe(false);
    route.wroteByPool(0.4, true);
    expect(route.inline()).toBe(false);
    route.wroteByPool(0.4, false);
    expect(route.inline()).toBe(true);
  });

  it("goes back to the thread pool after a slow write, inline or not (a stalling disk keeps the loop free)", () => {
    const route = new WriteRoute();
    route.wroteByPool(0.4, false);
    route.wroteInline(5);
    expect(route.inline()).toBe(false);
    route.wroteByPool(30, false);
    expect(route.inline()).toBe(false);
    route.wroteByPool(0.5, false);
    expect(route.inline()).toBe(true);
  });

  it("sends every sixteenth write by the thread pool to look whether the engine got busy", () => {
    const route = new WriteRoute();
    route.wroteByPool(0.4, false);
    const routes: boolean[] = [];
    for (let i = 0; i < 17; i++) {
      const inline = route.inline();
      routes.push(inline);
      if (inline) route.wroteInline(0.3);
      else route.wroteByPool(0.4, true);
    }
    expect(routes.slice(0, 16)).toEqual(Array(16).fill(true));
    expect(routes[16]).toBe(false);
    expect(route.inline()).toBe(false); // lines gathered during the look: the engine is busy
  });
});
