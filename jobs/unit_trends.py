# Per unit: the trend of its daily means over the last 28 days (a least-squares slope
# per day), in data/warehouse/trends/<unit>.json. A program job: stau runs it with
# python3 (or $STAU_PYTHON), one process per chunk, and reads its config from the block
# below. Standard library only, so the example runs on any machine with Python 3.
#
# /// stau
# chunkSize = 100
# selectWork = true
# retries = 1
# timeout = "2m"
# reads = ["daily_stats"]
# writes = ["unit_trends"]
#
# [[dependencies]]
# job = "daily_stats"
# maxLag = "2h"
# ///
import json
import os
import sys
from datetime import date, datetime, timezone

WAREHOUSE = os.path.join("data", "warehouse")  # stau starts programs in the project root
WINDOW_DAYS = 28
UNIT_COUNT = 300  # as in jobs/lib/warehouse.ts, for a fresh checkout without a registry


def unit_ids():
    """Every unit id: from the registry when it exists, else 1..UNIT_COUNT."""
    try:
        with open(os.path.join(WAREHOUSE, "units.json")) as f:
            return [unit["id"] for unit in json.load(f)["units"]]
    except FileNotFoundError:
        return list(range(1, UNIT_COUNT + 1))


def slope(points):
    """Least-squares slope of (x, y) points, or None with fewer than two."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var_x = sum((x - mean_x) ** 2 for x, _ in points)
    return None if var_x == 0 else sum((x - mean_x) * (y - mean_y) for x, y in points) / var_x


def trend(unit):
    path = os.path.join(WAREHOUSE, "daily_stats", f"{unit}.json")
    try:
        with open(path) as f:
            stats = json.load(f)
    except FileNotFoundError:
        # daily_stats just ran for this unit: a missing file is a data problem no retry fixes.
        print(f"{path} is missing: no daily stats for unit {unit}", file=sys.stderr)
        sys.exit(100)
    today = datetime.now(timezone.utc).date()
    points = [
        ((date.fromisoformat(day["day"]) - today).days, day["mean"])
        for day in stats["days"]
        if 0 < (today - date.fromisoformat(day["day"])).days <= WINDOW_DAYS
    ]
    per_day = slope(points)
    return {"unit": unit, "sensorType": stats["sensorType"], "days": len(points), "slopePerDay": per_day}


def main():
    if os.environ["STAU_PHASE"] == "select-work":
        print(json.dumps(unit_ids()))
        return
    units = json.loads(os.environ["STAU_WORK_IDS"])
    os.makedirs(os.path.join(WAREHOUSE, "trends"), exist_ok=True)
    rising = 0
    for index, unit in enumerate(units, start=1):
        result = trend(int(unit))
        rising += 1 if (result["slopePerDay"] or 0) > 0 else 0
        target = os.path.join(WAREHOUSE, "trends", f"{unit}.json")
        # Written to a temp file and renamed, so a reader never sees half a file.
        with open(target + ".tmp", "w") as f:
            json.dump(result, f)
        os.replace(target + ".tmp", target)
        print(f"::stau::progress {index} {len(units)}")
    print(f"trends of {len(units)} units written; {rising} rising")


main()
