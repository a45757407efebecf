// The unit registry: which sensor units exist, where they stand and what they measure.
// In real life this would be an export from an asset database; here it is generated
// from a fixed seed, so every machine gets the same 300 units.
import { defineJob } from "stau";
import { SENSORS, SITES, UNIT_COUNT, dayOf, paths, seededRandom, writeJsonAtomic, type Registry, type SensorType, type Unit } from "./lib/warehouse.js";

const SEED = 20240101;
const FIRST_INSTALL = Date.UTC(2019, 0, 1);
const LAST_INSTALL = Date.UTC(2024, 11, 31);

export default defineJob({
  // No selectWork and no chunkSize: the registry is one file describing all units, so
  // the job is a single chunk. Jobs that depend on it with `allowMissingWorkIds: true`
  // treat it as one unit of work: fresh if it ran recently at all.
  writes: ["units"],
  async run({ log }) {
    const random = seededRandom(SEED);
    const sensorTypes = Object.keys(SENSORS) as SensorType[];
    const units: Unit[] = [];
    for (let id = 1; id <= UNIT_COUNT; id++) {
      units.push({
        id,
        site: SITES[Math.floor(random() * SITES.length)],
        sensorType: sensorTypes[Math.floor(random() * sensorTypes.length)],
        installedAt: dayOf(FIRST_INSTALL + random() * (LAST_INSTALL - FIRST_INSTALL)),
      });
    }
    const registry: Registry = { generatedAt: new Date().toISOString(), units };
    await writeJsonAtomic(paths.units(), registry);
    log(`registry written: ${units.length} units at ${SITES.length} sites`);
  },
});
