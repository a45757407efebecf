import { connect } from "node:net";
import { StauError } from "../errors.js";
import { controlResult, type ControlRequest, type ControlResponse } from "./protocol.js";
import { controlSocketPath } from "./socket-path.js";

/** Sends one request to the instance running on `dataDir` and returns its result. */
export function callInstance<T = unknown>(dataDir: string, request: ControlRequest, timeoutMs = 30_000): Promise<T> {
  const path = controlSocketPath(dataDir);
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
