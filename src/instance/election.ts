import { errorMessage } from "../errors.js";
import type { InstanceInfo } from "../store/records.js";
import type { Leadership } from "../store/store.js";

/** How often an instance that does not orchestrate tries to take over. */
const ELECTION_MS = 1_000;

export interface ElectionOptions {
  readonly leadership: Leadership;
  readonly instance: InstanceInfo;
  /** This instance took the lock: start orchestrating (a failure ends the instance). */
  readonly begin: () => Promise<void>;
  /** The lock was lost, or orchestrating could not start. */
  readonly failed: (reason: string) => void;
  readonly warn: (message: string) => void;
}

/**
 * Who orchestrates: each instance tries to take the lock now and then, until it has it.
 * On the embedded store the first try takes the data directory's lock or fails the start.
 */
export class Election {
  private timer: NodeJS.Timeout | null = null;
  private trying: Promise<void> | null = null;
  private leading = false;
  private stopped = false;

  constructor(private readonly options: ElectionOptions) {}

  get isLeading(): boolean {
    return this.leading;
  }

  /** One try, whose errors (a data directory held by another process) go to the caller. */
  async first(): Promise<boolean> {
    const result = await this.options.leadership.acquire(this.options.instance);
    this.leading = result.ok;
    return result.ok;
  }

  /** Starts orchestrating if the first try won, else keeps trying. */
  async run(): Promise<void> {
    if (this.leading) return this.lead();
    this.timer = setInterval(() => void this.tryNow(), ELECTION_MS);
  }

  private tryNow(): Promise<void> {
    this.trying ??= (async () => {
      try {
        if (this.leading || this.stopped || !(await this.options.leadership.acquire(this.options.instance)).ok || this.stopped) return;
        this.leading = true;
        if (this.timer) clearInterval(this.timer);
        await this.lead();
      } catch (error) {
        this.options.warn(`taking the orchestrator lock failed: ${errorMessage(error)}`);
      } finally {
        this.trying = null;
      }
    })();
    return this.trying;
  }

  private async lead(): Promise<void> {
    try {
      await this.options.begin();
    } catch (error) {
      // Holding the lock without orchestrating would leave every instance without an orchestrator.
      return this.options.failed(`starting to orchestrate failed: ${errorMessage(error)}`);
    }
    void this.options.leadership.lost().then((reason) => !this.stopped && this.options.failed(`lost the orchestrator lock (${reason.message})`));
  }

  /** No more tries; waits for one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.trying;
  }
}
