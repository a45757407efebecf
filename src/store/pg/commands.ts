import type { CommandQueue } from "../../control/database-orders.js";
import type { ControlRequest, ControlResponse } from "../../control/protocol.js";
import type { PgConnection } from "./connection.js";

/** The commands table: orders from any machine for the orchestrating instance, each taken once. */
export class PgCommands implements CommandQueue {
  readonly location: string;
  private readonly s: string;

  constructor(private readonly db: PgConnection) {
    this.location = db.location;
    this.s = db.s;
  }

  async submit(request: ControlRequest): Promise<number> {
    const { rows } = await this.db.query<{ id: string }>(`INSERT INTO ${this.s}.commands (request) VALUES ($1) RETURNING id, pg_notify($2, '')`, [JSON.stringify(request), this.db.channel("commands")]);
    return Number(rows[0]!.id);
  }

  async take(taker: string): Promise<{ id: number; request: ControlRequest }[]> {
    const { rows } = await this.db.query<{ id: string; request: ControlRequest }>(
      `UPDATE ${this.s}.commands SET taken_by = $1 WHERE id IN (SELECT id FROM ${this.s}.commands WHERE taken_by IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED) RETURNING id, request`,
      [taker],
    );
    return rows.map((r) => ({ id: Number(r.id), request: r.request })).sort((a, b) => a.id - b.id);
  }

  async answer(id: number, response: ControlResponse): Promise<void> {
    await this.db.query(`UPDATE ${this.s}.commands SET response = $2, answered_at = now() WHERE id = $1 RETURNING pg_notify($3, $1::text)`, [id, JSON.stringify(response), this.db.channel("replies")]);
  }

  async withdraw(id: number): Promise<boolean> {
    const { rowCount } = await this.db.query(`DELETE FROM ${this.s}.commands WHERE id = $1 AND taken_by IS NULL`, [id]);
    return (rowCount ?? 0) > 0;
  }

  async answerOf(id: number): Promise<{ taken: boolean; response: ControlResponse | null } | null> {
    const { rows } = await this.db.query<{ taken: boolean; response: ControlResponse | null }>(`SELECT taken_by IS NOT NULL AS taken, response FROM ${this.s}.commands WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async anyoneAlive(): Promise<boolean> {
    const { rows } = await this.db.query(`SELECT 1 FROM ${this.s}.instances WHERE stopped_at IS NULL AND heartbeat_at > now() - interval '10 seconds' LIMIT 1`);
    return rows.length > 0;
  }

  listen(channel: "commands" | "replies", listener: (payload: string) => void): Promise<() => void> {
    return this.db.listen(channel, listener);
  }
}
