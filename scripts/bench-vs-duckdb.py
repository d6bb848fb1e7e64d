#!/usr/bin/env python3
"""seatmeter against DuckDB on the same spool files, in one run.

Takes a site written by `seatmeter gen --format csv` and:
  1. times seatmeter end to end on a fresh store: `collect --once`, `rollup`, and the
     system report at 10-minute granularity as CSV (everything stored durably);
  2. times DuckDB (the tool an analyst would reach for) reading the same CSV files and
     computing the system 10-minute peaks per item (sessions rebuilt per agent, a second
     device adding its media, peaks at every instant a count rises);
  3. checks that both agree on every (period, item) row, and prints both times and the ratio.

    pip install duckdb==2.0.0
    cargo build --release
    ./target/release/seatmeter gen --agents 23000 --tenants 40 --days 30 --breaks 1 \\
        --format csv --start 2026-10-01 --out /tmp/site
    python3 scripts/bench-vs-duckdb.py /tmp/site

The DuckDB query follows docs/SEMANTICS.md for what `seatmeter gen` writes (no two events
of one agent at the same instant); it reads the items of the site's seatmeter.toml.
"""

import argparse
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def month_of(site):
    names = sorted(n for n in os.listdir(os.path.join(site, "spool")) if n.endswith(".csv"))
    first = names[0][:10]
    return dt.date.fromisoformat(first[:8] + "01")


def seatmeter(binary, site, first, last, threads):
    """Copies the site (without its store) and runs the pipeline; returns (seconds, rows)."""
    work = tempfile.mkdtemp(prefix="seatmeter-bench-")
    for name in ("spool", "config-snapshots"):
        shutil.copytree(os.path.join(site, name), os.path.join(work, name))
    for name in ("seatmeter.toml", "license.dat"):
        shutil.copy(os.path.join(site, name), work)
    out = os.path.join(work, "system-10min.csv")
    env_before = time.perf_counter()
    run([binary, "-c", "seatmeter.toml", "collect", "--once"], work)
    t_collect = time.perf_counter()
    run([binary, "-c", "seatmeter.toml", "rollup"], work)
    t_rollup = time.perf_counter()
    run([binary, "-c", "seatmeter.toml", "report", "--scope", "system", "--granularity", "10min",
         "--from", first.isoformat(), "--to", last.isoformat(), "--format", "csv", "--out", out], work)
    t_end = time.perf_counter()
    rows = {}
    with open(out) as f:
        for r in csv.DictReader(f):
            start = dt.datetime.fromisoformat(r["period_start"]).astimezone(dt.timezone.utc)
            rows[(start, r["item"])] = int(r["peak_concurrent"])
    shutil.rmtree(work)
    phases = (t_collect - env_before, t_rollup - t_collect, t_end - t_rollup)
    return t_end - env_before, phases, rows


def duckdb_peaks(site, items, first, last, threads):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET TimeZone = 'UTC'")
    # Each login's items as one bit mask (bit i: item i uses a seat of it).
    bits = " | ".join(
        f"(({'TRUE' if any_ else 'list_has_any(m, [' + ', '.join(repr(x) for x in media) + '])'})::INT << {i})"
        for i, (name, any_, media) in enumerate(items)
    )
    item_rows = ", ".join(f"({i}, {name!r})" for i, (name, _, _) in enumerate(items))
    spool = os.path.join(site, "spool", "*.csv")
    start = dt.datetime.combine(first, dt.time()).isoformat()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()).isoformat()
    sql = f"""
    WITH raw AS (
        SELECT DISTINCT ts, event, tenant, agent, place, groups, media
        FROM read_csv('{spool}', header = true, all_varchar = true)
    ),
    e AS (
        SELECT coalesce(tenant, 'default') AS tenant, agent, ts::TIMESTAMPTZ AS ts, event = 'logout' AS is_out,
               CASE WHEN event = 'login' THEN (
                   SELECT {bits} FROM (SELECT string_split(CASE WHEN coalesce(media, '') = '' THEN 'voice' ELSE lower(media) END, ';') AS m)
               ) ELSE 0 END AS b
        FROM raw
    ),
    s AS (
        SELECT *, sum(is_out::INT) OVER (PARTITION BY tenant, agent ORDER BY ts ROWS UNBOUNDED PRECEDING) - is_out::INT AS sess
        FROM e
    ),
    st AS (
        -- The items in use after each event: the union of the session's logins so far.
        SELECT tenant, agent, ts,
               CASE WHEN is_out THEN 0 ELSE bit_or(b) OVER (PARTITION BY tenant, agent, sess ORDER BY ts ROWS UNBOUNDED PRECEDING) END AS now
        FROM s
    ),
    ch AS (
        SELECT ts, now, coalesce(lag(now) OVER (PARTITION BY tenant, agent ORDER BY ts), 0) AS before FROM st
    ),
    items(i, item) AS (VALUES {item_rows}),
    deltas AS (
        SELECT items.item, ch.ts, ((ch.now >> items.i) & 1) - ((ch.before >> items.i) & 1) AS d
        FROM ch, items WHERE ch.now <> ch.before AND ((ch.now >> items.i) & 1) <> ((ch.before >> items.i) & 1)
    ),
    levels AS (
        SELECT item, ts, sum(sum(d)) OVER (PARTITION BY item ORDER BY ts) AS level FROM deltas GROUP BY item, ts
    ),
    slots AS (
        SELECT items.item, g.slot
        FROM items, generate_series(TIMESTAMP '{start}' AT TIME ZONE 'Europe/London',
                                    TIMESTAMP '{end}' AT TIME ZONE 'Europe/London' - INTERVAL 10 MINUTE,
                                    INTERVAL 10 MINUTE) g(slot)
    ),
    at_start AS (
        SELECT s.item, s.slot, coalesce(l.level, 0) AS level
        FROM slots s ASOF LEFT JOIN levels l ON l.item = s.item AND l.ts <= s.slot
    ),
    inside AS (
        SELECT item, time_bucket(INTERVAL 10 MINUTE, ts) AS slot, max(level) AS level FROM levels GROUP BY ALL
    )
    SELECT a.item, epoch(a.slot)::BIGINT, greatest(a.level, coalesce(i.level, 0)) AS peak
    FROM at_start a LEFT JOIN inside i USING (item, slot)
    """
    t0 = time.perf_counter()
    result = con.execute(sql).fetchall()
    seconds = time.perf_counter() - t0
    rows = {}
    for item, slot, peak in result:
        rows[(dt.datetime.fromtimestamp(slot, dt.timezone.utc), item)] = int(peak)
    return seconds, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("site", help="a folder written by `seatmeter gen --format csv`")
    ap.add_argument("--seatmeter", default="target/release/seatmeter")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    binary = os.path.abspath(a.seatmeter)
    with open(os.path.join(a.site, "seatmeter.toml"), "rb") as f:
        cfg = tomllib.load(f)
    if cfg.get("timezone") != "Europe/London":
        sys.exit("the DuckDB query is written for Europe/London sites (what `seatmeter gen` writes)")
    items = [(it["name"], it["media"] == ["*"], [m for m in it["media"] if m != "*"]) for it in cfg["item"]]
    first = month_of(a.site)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    events = sum(max(0, sum(1 for _ in open(os.path.join(a.site, "spool", n))) - 1)
                 for n in os.listdir(os.path.join(a.site, "spool")) if n.endswith(".csv"))

    sm_seconds, phases, sm_rows = seatmeter(binary, a.site, first, last, a.threads)
    dk_seconds, dk_rows = duckdb_peaks(a.site, items, first, last, a.threads)

    missing = [k for k in dk_rows if k not in sm_rows]
    differ = [(k, sm_rows[k], dk_rows[k]) for k in dk_rows if k in sm_rows and sm_rows[k] != dk_rows[k]]
    print(f"site: {a.site} ({events:,} events), {first} to {last}, {len(dk_rows):,} (period, item) rows")
    print(f"seatmeter: {sm_seconds:6.2f} s  (collect {phases[0]:.2f} s, rollup {phases[1]:.2f} s, report {phases[2]:.2f} s)")
    print(f"DuckDB:    {dk_seconds:6.2f} s  ({a.threads} threads, query over the CSV files)")
    print(f"ratio:     {dk_seconds / sm_seconds:6.2f}x  (DuckDB time / seatmeter time)")
    if missing or differ or len(sm_rows) != len(dk_rows):
        for k, s, d in differ[:10]:
            print(f"  differ at {k[0].isoformat()} {k[1]}: seatmeter {s}, DuckDB {d}")
        sys.exit(f"DISAGREE: {len(differ)} rows differ, {len(missing)} missing, {len(sm_rows)} vs {len(dk_rows)} rows")
    print("agree:     every row")


if __name__ == "__main__":
    main()
