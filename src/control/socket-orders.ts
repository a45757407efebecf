import { createHash } from "node:crypto";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StauError } from "../errors.js";
import { EVENT_NAMES, type EventBus, type StauEvents } from "../events.js";
import type { OrderChannel, OrderHandler } from "./orders.js";
import { controlResponse, controlResult, parseControlRequest, type ControlRequest, type ControlResponse } from "./protocol.js";

// The control socket of an instance on a data directory: a Unix socket in that
// directory, readable by its owner only (no TCP port). One request and one response per
// connection, each a line of JSON.

const MAX_REQUEST_BYTES = 1 << 20;
// Unix socket paths are limited to ~104 bytes; a deep data directory gets a socket in
// the temp directory named by a hash of its path.
const MAX_SOCKET_PATH = 100;

export function controlSocketPath(dataDir: string): string {
  const inData = join(dataDir, "stau.sock");
  if (Buffer.byteLength(inData) <= MAX_SOCKET_PATH) return inData;
  return join(tmpdir(), `stau-${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}.sock`);
}

export function socketOrders(dataDir: string): OrderChannel {
  const path = controlSocketPath(dataDir);
  return {
    address: path,
    call: (request, timeoutMs) => callSocket(path, dataDir, request, timeoutMs),
    follow: (listener, ended) => follow(path, dataDir, listener, ended),
    async serve(handle, { events }) {
      // Only the instance holding the data directory's lock serves: a socket file still there is a dead instance's.
      if (existsSync(path)) unlinkSync(path);
      // Event streams stay open for as long as their reader wants; closing the server ends them, or it would wait for them.
      const streams = new Set<Socket>();
      const server = createServer((socket) => serve(socket, handle, events, streams));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      });
      chmodSync(path, 0o600);
      return async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of streams) socket.end(JSON.stringify({ end: "stopping" }) + "\n");
        await closed;
        if (existsSync(path)) unlinkSync(path);
      };
    },
  };
}

function serve(socket: Socket, handle: OrderHandler, events: EventBus | undefined, streams: Set<Socket>): void {
  let buffer = "";
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  socket.on("data", (data: string) => {
    buffer += data;
    if (buffer.length > MAX_REQUEST_BYTES) return reply(socket, { ok: false, error: { message: "request too large", exitCode: 2 } });
    const newline = buffer.indexOf("\n");
    if (newline < 0) return;
    let raw: unknown;
    try {
      raw = JSON.parse(buffer.slice(0, newline));
    } catch {
      return reply(socket, { ok: false, error: { message: "the request is not valid JSON", exitCode: 2 } });
    }
    let request: ControlRequest;
    try {
      // Whatever wrote to the socket, nothing acts on a request of the wrong shape.
      request = parseControlRequest(raw);
    } catch (error) {
      return reply(socket, controlResponse({ ok: false, error }));
    }
    if (request.cmd === "events") {
      socket.removeAllListeners("data");
      streams.add(socket);
      socket.once("close", () => streams.delete(socket));
      return stream(socket, events);
    }
    handle(request).then(
      (result) => reply(socket, controlResponse({ ok: true, result })),
      (error) => reply(socket, controlResponse({ ok: false, error })),
    );
  });
}

/** A reader that falls this far behind is let go (it attaches again if it wants). */
const MAX_BEHIND_BYTES = 32 << 20;

/** Writes every event of the instance to the socket, a JSON line each, until it closes; `{"end":"stopping"}` when the instance stops serving. */
function stream(socket: Socket, events: EventBus | undefined): void {
  if (!events) return reply(socket, { ok: false, error: { message: "this instance does not stream its events", exitCode: 2 } });
  socket.write(JSON.stringify({ ok: true, result: "events" }) + "\n");
  const offs = EVENT_NAMES.map((name) =>
    events.on(name, (payload) => {
      if (socket.writableLength > MAX_BEHIND_BYTES) return socket.destroy();
      socket.write(JSON.stringify({ name, payload }) + "\n");
    }),
  );
  socket.once("close", () => offs.forEach((off) => off()));
}

/** The caller's side of an event stream: each line to `listener` until closed or the instance goes. */
function follow(path: string, dataDir: string, listener: (name: keyof StauEvents, payload: never) => void, ended: (why: string) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = "";
    let acknowledged = false;
    let closing = false;
    // The instance says so before it ends the stream on its way down.
    let stopping = false;
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(JSON.stringify({ cmd: "events" }) + "\n"));
    socket.on("data", (data: string) => {
      buffer += data;
      for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!acknowledged) {
          acknowledged = true;
          try {
            controlResult(JSON.parse(line) as ControlResponse);
          } catch (error) {
            socket.destroy();
            return reject(error);
          }
          resolve(() => {
            closing = true;
            socket.destroy();
          });
          continue;
        }
        const message = JSON.parse(line) as { name: keyof StauEvents; payload: never } | { end: "stopping" };
        if ("end" in message) stopping = true;
        else listener(message.name, message.payload);
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!acknowledged) reject(new StauError("no_instance", `no stau instance is running on ${dataDir}: ${error.message}`, { exitCode: 2 }));
    });
    socket.on("close", () => {
      if (acknowledged && !closing) ended(stopping ? "stopping" : `the stau instance on ${dataDir} went away`);
    });
  });
}

function reply(socket: Socket, response: ControlResponse): void {
  socket.end(JSON.stringify(response) + "\n");
}

function callSocket<T>(path: string, dataDir: string, request: ControlRequest, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StauError("control_timeout", `the stau instance on ${dataDir} did not answer within ${timeoutMs / 1000}s`, { hint: "check its logs; it may be overloaded or stuck", exitCode: 1 }));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(JSON.stringify(request) + "\n"));
    socket.on("data", (data: string) => (buffer += data));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
        reject(new StauError("no_instance", `no stau instance is running on ${dataDir}`, { hint: "start one with `stau start --no-ui` (or `stau dev`), or use `stau run <job>` to run in this process", exitCode: 2 }));
      } else {
        reject(new StauError("control_error", `could not reach the stau instance on ${dataDir}: ${error.message}`, { exitCode: 2 }));
      }
    });
    socket.on("end", () => {
      clearTimeout(timer);
      let response: ControlResponse;
      try {
        response = JSON.parse(buffer) as ControlResponse;
      } catch {
        return reject(new StauError("control_error", `the stau instance on ${dataDir} sent an unreadable answer`, { exitCode: 1 }));
      }
      try {
        resolve(controlResult<T>(response));
      } catch (error) {
        reject(error);
      }
    });
  });
}
