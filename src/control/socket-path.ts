import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Unix socket paths are limited to ~104 bytes; a deep data directory gets a socket in
// the temp directory named by a hash of its path. Server and client agree through this.
const MAX_SOCKET_PATH = 100;

export function controlSocketPath(dataDir: string): string {
  const inData = join(dataDir, "stau.sock");
  if (Buffer.byteLength(inData) <= MAX_SOCKET_PATH) return inData;
  return join(tmpdir(), `stau-${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}.sock`);
}
