import { chmodSync, existsSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { controlResponse, type ControlRequest, type ControlResponse } from "./protocol.js";

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

const MAX_REQUEST_BYTES = 1 << 20;

/**
 * The control socket of a running instance: a Unix socket in its data directory,
 * readable by its owner only (no TCP port), so other terminals can trigger, retry,
 * cancel and ask for status.
 */
export async function listenControl(path: string, handle: ControlHandler): Promise<Server> {
  // We hold the data directory's lock, so a socket file still there is a dead instance's.
  if (existsSync(path)) unlinkSync(path);
  const server = createServer((socket) => serve(socket, handle));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}

function serve(socket: Socket, handle: ControlHandler): void {
  let buffer = "";
  socket.setEncoding("utf8");
  socket.on("error", () => socket.destroy());
  socket.on("data", (data: string) => {
    buffer += data;
    if (buffer.length > MAX_REQUEST_BYTES) return reply(socket, { ok: false, error: { message: "request too large", exitCode: 2 } });
    const newline = buffer.indexOf("\n");
    if (newline < 0) return;
    let request: ControlRequest;
    try {
      request = JSON.parse(buffer.slice(0, newline)) as ControlRequest;
    } catch {
      return reply(socket, { ok: false, error: { message: "the request is not valid JSON", exitCode: 2 } });
    }
    handle(request).then(
      (result) => reply(socket, controlResponse({ ok: true, result })),
      (error) => reply(socket, controlResponse({ ok: false, error })),
    );
  });
}

function reply(socket: Socket, response: ControlResponse): void {
  socket.end(JSON.stringify(response) + "\n");
}

export async function closeControl(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (existsSync(path)) unlinkSync(path);
}
