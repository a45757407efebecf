// Pulls raw sensor readings: one file per unit with hourly readings over the last `days`
// days (kwarg, default 28). The feed is synthetic but dirty in the ways real feeds are,
// so that clean_measurements has something to do.
import { defineJob, NonRetryableError } from "stau";
import { DAY_MS, SENSORS, dayOf, gaussian, listUnitIds, paths, readRegistry, seedFrom, seededRandom, toUnitIds, writeJsonAtomic, type RawFile, type RawValue, type Unit } from "./lib/warehouse.js";

const INTERVAL_MS = 60 * 60 * 1000; // hourly readings

export default defineJob<{ days?: number }>({
  chunkSize: 50,
  dependencies: [
    // The registry is one file for all units: any successful run within a day will do.
    { job: "unit_registry", maxLag: "1d", allowMissingWorkIds: true },
  ],
  retries: 2, // a real feed has network hiccups
  retryDelay: "10s",
  timeout: "5m",
  reads: ["units", "sensor_feed"],
  writes: ["measurements_raw"],

  async selectWork() {
    return listUnitIds();
  },

  async run({ workIds, kwargs, log, progress, signal }) {
    const days = kwargs.days ?? 28;
    if (!Number.isInteger(days) || days < 1) throw new NonRetryableError(`kwarg days must be a positive integer, received ${JSON.stringify(days)}`);

    const registry = await readRegistry();
    if (!registry) throw new NonRetryableError(`${paths.units()} is missing; run unit_registry first`);
    const unitsById = new Map(registry.units.map((unit) => [unit.id, unit]));

    // From midnight UTC `days` days ago up to the last full hour. Each hourly re-run
    // reproduces the earlier readings exactly and adds the new ones.
    const now = Date.now();
    const start = Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;
    const end = Math.floor(now / INTERVAL_MS) * INTERVAL_MS;

    const units = toUnitIds(workIds);
    let readingCount = 0;
    for (const [index, id] of units.entries()) {
      signal.throwIfAborted(); // cancel, timeout and shutdown land here between units
      const unit = unitsById.get(id);
      if (!unit) throw new NonRetryableError(`unit ${id} is not in the registry ${paths.units()}`);
      const readings: RawFile["readings"] = [];
      for (let day = start; day <= end; day += DAY_MS) readings.push(...readingsOfDay(unit, day, end));
      const file: RawFile = { unit: id, sensorType: unit.sensorType, ingestedAt: new Date(now).toISOString(), readings };
      await writeJsonAtomic(paths.raw(id), file);
      readingCount += readings.length;
      progress(index + 1, units.length);
    }
    log(`ingested ${readingCount} readings for ${units.length} units (${days} days back)`);
  },
});

/**
 * One UTC day of a unit's readings. Drawn in time order from a generator seeded by unit
 * and day, so a re-run reproduces every earlier reading and today's readings only grow.
 */
function readingsOfDay(unit: Unit, dayStart: number, end: number): RawFile["readings"] {
  const spec = SENSORS[unit.sensorType];
  const day = dayOf(dayStart);
  const random = seededRandom(seedFrom("readings", unit.id, day));
  // The day's level: the sensor type's base, that day's weather at the site (shared by
  // the site's units) and, rarely, a drift of this one unit.
  const level = spec.base + spec.weather * gaussian(seededRandom(seedFrom("weather", unit.site, unit.sensorType, day))) + drift(unit, day);

  const readings: RawFile["readings"] = [];
  for (let time = dayStart; time < dayStart + DAY_MS && time <= end; time += INTERVAL_MS) {
    readings.push({ ts: new Date(time).toISOString(), value: rawValue(unit, level, (time - dayStart) / 3_600_000, random) });
  }
  return readings;
}

/** A reading as the feed delivers it: ~97% good numbers, the rest junk of the usual kinds. */
function rawValue(unit: Unit, level: number, hour: number, random: () => number): RawValue {
  const spec = SENSORS[unit.sensorType];
  const roll = random();
  if (roll < 0.01) return null; // a dropped packet
  if (roll < 0.015) return "NaN"; // the firmware's NaN; JSON has no NaN, so it arrives as text
  if (roll < 0.02) return "ERR:E42"; // a device error code
  if (roll < 0.025) return -9999; // the vendor's "no value" sentinel
  if (roll < 0.03) return round(spec.max * (1.5 + random())); // a spike no sensor of this type can measure
  const value = level + spec.dailySwing * Math.sin((2 * Math.PI * (hour - 9)) / 24) + spec.noise * gaussian(random); // peaks mid-afternoon
  return round(Math.min(spec.max, Math.max(spec.min, value))); // a real sensor saturates at its range
}

/** On ~2% of days a unit drifts (a dirty filter, a sensor in the sun): what anomaly_scores should find. */
function drift(unit: Unit, day: string): number {
  const random = seededRandom(seedFrom("drift", unit.id, day));
  if (random() >= 0.02) return 0;
  const direction = random() < 0.5 ? -1 : 1;
  return direction * SENSORS[unit.sensorType].weather * (5 + 2 * random());
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
