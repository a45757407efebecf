import { Tinypool } from "tinypool";
import { workerFile } from "../worker-file.js";
import { jobEnv } from "./job-env.js";
import type { PoolChannels, TaskResult, WorkerTask } from "./protocol.js";
import type { Stopper } from "./stopper.js";

/**
 * What the threads do now: the chunks `running` on them (a program's included), and
 * those `waiting` for a thread: in a batch for the ones before them (README: short
 * chunks travel in batches) or, from Executor.threadsNow, back in line. A chunk sent to
 * a thread that is in neither has ended: its result is on its way (with its batch's) to
 * being recorded.
 */
export interface ThreadsNow {
  readonly running: readonly string[];
  readonly waiting: readonly string[];
  /**
   * When it was read (epoch ms), for a reading that may be older than the events beside
   * it (a console attached over the socket polls it): a chunk started after it is not
   * judged by it.
   */
  readonly at?: number;
}

/**
 * The worker threads an ExecPool runs its tasks on (tinypool's), all of them kept while
 * there is work. A hot reload's recycle ends the idle ones and lets new ones start with
 * the next task, not at once: saves while nothing runs start no thread (each thread
 * started and ended leaves memory behind in the C allocator, see SpareLoader), and a new
 * thread sets up the TypeScript loader at its first job import either way.
 */
export class Threads {
  private readonly pool: Tinypool;

  constructor(
    private readonly size: number,
    channels: PoolChannels,
    memoryMb: number,
  ) {
    this.pool = new Tinypool({
      filename: workerFile("./worker.js", import.meta.url),
      minThreads: size,
      maxThreads: size,
      idleTimeout: 60_000,
      workerData: channels,
      env: jobEnv(),
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
    });
  }

  async run(task: WorkerTask, signal: Stopper): Promise<TaskResult> {
    // Threads are kept again once there is work (recycle let them go).
    this.pool.options.minThreads = this.size;
    return (await this.pool.run(task, { signal })) as TaskResult;
  }

  /** New threads for new tasks; running tasks finish on the old ones. */
  async recycle(): Promise<void> {
    this.pool.options.minThreads = 0;
    await this.pool.recycleWorkers();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
