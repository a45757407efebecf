import { createServer, type Server } from "node:http";
import { StauError } from "../errors.js";

/** What /healthz reports; `draining` turns the answer into a 503 so balancers stop sending work. */
export interface Health {
  readonly draining: boolean;
  readonly [field: string]: unknown;
}

/** The Prometheus exposition of an instance (metrics.ts), or null while it starts. */
export type Scrape = () => Promise<{ contentType: string; text: string } | null>;

/** GET /healthz on 127.0.0.1:`port`, for process supervisors and load balancers, and GET /metrics for Prometheus. */
export function listenHealth(port: number, health: () => Health, scrape: Scrape): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === "GET" && request.url === "/metrics") {
      scrape().then(
        (metrics) => (metrics ? response.writeHead(200, { "content-type": metrics.contentType }).end(metrics.text) : response.writeHead(503).end("stau is starting\n")),
        (error: unknown) => response.writeHead(500).end(`collecting metrics failed: ${String(error)}\n`),
      );
      return;
    }
    if (request.method !== "GET" || request.url !== "/healthz") {
      response.writeHead(404).end();
      return;
    }
    const { draining, ...rest } = health();
    const body = { status: draining ? "draining" : "ok", pid: process.pid, uptimeSeconds: Math.round(process.uptime()), ...rest };
    response.writeHead(draining ? 503 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "EADDRINUSE" ? "is in use by another program" : error.code === "EACCES" ? "may not be opened by this user" : `cannot be opened (${error.message})`;
      reject(new StauError("health_port", `--health-port ${port}: 127.0.0.1:${port} ${why}`, { hint: "choose another port, or stop what holds it", exitCode: 2, cause: error }));
    });
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
