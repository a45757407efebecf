// run_fairness_ms: how long a person's one-chunk run waits for its turn while a big run
// of another job executes (active runs share the workers instead of queueing).
import { performance } from "node:perf_hooks";
import { median } from "./project.mjs";
import { JOBS, withInstance } from "./engine.mjs";

/** Trigger → the small run's code starting, at points spread over a 20,000-chunk run; baseline: the same on an idle instance. */
export async function runFairness(bigChunks = 20_000, samples = 5) {
  return withInstance(2, async ({ instance, trigger, events }) => {
    const stamped = async () => {
      let started = null;
      const off = events.on("chunk:log", ({ text }) => (started ??= Number(text)));
      const before = performance.timeOrigin + performance.now();
      await instance.waitForRun((await trigger({ job: "stamp" })).id);
      off();
      return started - before;
    };
    await instance.waitForRun((await trigger({ job: "many", kwargs: { n: 200 } })).id); // warm up
    const idle = [];
    for (let i = 0; i < samples; i++) idle.push(await stamped());
    const busy = [];
    let done = 0;
    const off = events.on("chunk:done", () => done++);
    const big = await trigger({ job: "many", kwargs: { n: bigChunks } });
    let bigOver = false;
    const bigEnd = instance.waitForRun(big.id).finally(() => (bigOver = true));
    for (let i = 1; i <= samples; i++) {
      // Spread over the big run, each while it still executes (a sample that waited for
      // its end ends the sampling: the rest would measure an idle instance).
      const mark = Math.floor((bigChunks * i) / (samples + 2));
      while (done < mark && !bigOver) await new Promise((resolve) => setTimeout(resolve, 1));
      if (bigOver) break;
      busy.push(await stamped());
    }
    off();
    const result = await bigEnd;
    if (result.run.status !== "done") throw new Error(`the big run ended ${result.run.status}`);
    const value = median(busy);
    const baseline = median(idle);
    return { name: "run_fairness_ms", value, unit: "ms", baseline, ratio: value / baseline, detail: `while ${bigChunks} chunks of another run execute; baseline: idle instance` };
  });
}

/**
 * waiting_run_throughput: a big run's chunk rate while another run waits for it (it needs
 * the big run's job), against the same run with nobody waiting, in alternating rounds
 * (medians). The wait rule is asked again at every batch of results while a run waits.
 */
export async function waitingRunThroughput(chunks = 50_000, rounds = 3) {
  return withInstance(2, async ({ instance, trigger }) => {
    await instance.waitForRun((await trigger({ job: "many", kwargs: { n: 200 } })).id); // warm up
    const rate = async (waiting) => {
      const start = performance.now();
      const big = await trigger({ job: "many", kwargs: { n: chunks } });
      const waiter = waiting ? await trigger({ job: "waits", kwargs: { n: chunks } }) : null;
      const result = await instance.waitForRun(big.id);
      const seconds = (performance.now() - start) / 1000;
      if (result.run.status !== "done") throw new Error(`the big run ended ${result.run.status}`);
      if (waiter && (await instance.waitForRun(waiter.id)).run.status !== "done") throw new Error("the waiting run did not end done");
      return chunks / seconds;
    };
    const alone = [];
    const waited = [];
    for (let i = 0; i < rounds; i++) {
      alone.push(await rate(false));
      waited.push(await rate(true));
    }
    const value = median(waited);
    const baseline = median(alone);
    return { name: "waiting_run_throughput", value, unit: "chunks/s", baseline, ratio: value / baseline, detail: `${chunks} chunks while a run of a job that needs them waits; baseline: the same run with nobody waiting` };
  });
}
