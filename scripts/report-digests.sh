#!/usr/bin/env bash
# The SHA-256 of every report seatmeter writes for a fixed set of sites: the demo (every
# file it writes, and what it prints), a generated site of 40 tenants in every scope,
# granularity and format, its billing export, and the worked example. Run it before and
# after a change that must not change a report, and compare the two lists:
#
#   scripts/report-digests.sh target/debug/seatmeter > before.txt
#   ... change, build ...
#   scripts/report-digests.sh target/debug/seatmeter > after.txt
#   diff before.txt after.txt && echo "every report is byte-identical"
#
# The sites are written under a fixed folder (reports name their files by path), and the
# PDF's generation time comes from SOURCE_DATE_EPOCH. A PDF's cover shows when each
# collector last collected, which differs from run to run: PDFs are listed by their text
# with those times masked. With REPORTS_ONLY=1 the script collects nothing: it writes the
# reports again from the stores a previous run left in the folder (copy it first), so
# that PDFs can be compared byte for byte:
#
#   cp -r /tmp/seatmeter-report-digests /tmp/again
#   REPORTS_ONLY=1 scripts/report-digests.sh NEW-BINARY /tmp/again > again.txt
set -euo pipefail
bin=$(realpath "${1:-target/debug/seatmeter}")
root=${2:-/tmp/seatmeter-report-digests}
here=$(cd "$(dirname "$0")/.." && pwd)
export SOURCE_DATE_EPOCH=1790000000
only=${REPORTS_ONLY:-}
# Newer binaries refuse very large tables unless forced; older ones have no such flag.
force=()
if "$bin" report --help 2>/dev/null | grep -q -- '--force'; then force=(--force); fi
if [ -z "$only" ]; then
    rm -rf "$root"
    mkdir -p "$root"
fi

# The demo: its files, and what it prints (durations taken out).
if [ -z "$only" ]; then
    "$bin" demo --dir "$root/demo" 2>&1 \
        | sed -E 's/[0-9]+\.[0-9]+ s\b/N s/g' > "$root/demo.out"
else
    (
        cd "$root/demo"
        for scope in system tenant group; do
            "$bin" report --scope "$scope" --granularity daily --from 2026-10-05 --to 2026-11-08 \
                --format pdf --out "reports/$scope-daily.pdf" 2> /dev/null
        done
    )
fi

# A generated site, every report.
gen=$root/gen
[ -n "$only" ] || "$bin" gen --agents 1200 --tenants 40 --days 20 --start 2026-10-15 --seed 7 --out "$gen" > /dev/null
(
    cd "$gen"
    if [ -z "$only" ]; then
        "$bin" collect --once > /dev/null
        "$bin" rollup > /dev/null
    fi
    mkdir -p out
    for scope in system tenant group; do
        for g in 10min hourly daily weekly monthly; do
            for f in csv json table; do
                "$bin" report --scope "$scope" --granularity "$g" --from 2026-10-15 --to 2026-11-03 \
                    --format "$f" --out "out/$scope-$g.$f" "${force[@]}" 2> /dev/null
            done
        done
        "$bin" report --scope "$scope" --granularity daily --from 2026-10-15 --to 2026-11-03 \
            --format pdf --out "out/$scope-daily.pdf" 2> /dev/null
    done
    "$bin" report --scope tenant --id "$(ls spool | head -1 | sed -E 's/^[0-9-]+-([^.]+)\..*/\1/')" \
        --granularity hourly --from 2026-10-20 --to 2026-10-21 --format csv --out out/one-tenant.csv 2> /dev/null || true
    "$bin" report --scope system --granularity 10min --from 2026-10-25 --to 2026-10-25 --format pdf \
        --out out/system-10min-dst.pdf 2> /dev/null
    "$bin" export billing --month 2026-10 --out out/billing > /dev/null 2>&1 || true
    "$bin" status | grep -v '^store:' | sed -E 's/last success [^;]+;/last success T;/' > out/status.txt
)

# The worked example.
we=$root/worked-example
if [ -z "$only" ]; then
    cp -r "$here/tests/fixtures/worked-example" "$we"
    rm -f "$we"/seatmeter.db*
fi
(
    cd "$we"
    if [ -z "$only" ]; then
        "$bin" collect --once > /dev/null
        "$bin" rollup > /dev/null
    fi
    mkdir -p out
    for scope in system tenant group; do
        for g in 10min hourly daily weekly monthly; do
            for f in csv json table pdf; do
                "$bin" report --scope "$scope" --granularity "$g" --from 2026-10-24 --to 2026-10-26 \
                    --format "$f" --out "out/$scope-$g.$f" 2> /dev/null
            done
        done
    done
)

cd "$root"
find . -type f ! -name '*.db' ! -name '*.db-*' ! -path './gen/spool/*' ! -path './demo/spool/*' \
    ! -name '.seatmeter-demo' ! -name '*.pdf.txt' -print0 | sort -z |
    while IFS= read -r -d '' f; do
        case "$f" in
        *.pdf)
            if [ -n "$only" ]; then
                sha256sum "$f"
            else
                pdftotext -layout "$f" - | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9:]{5}/T/g' |
                    sha256sum | sed "s|-\$|$f (text)|"
            fi
            ;;
        *) sha256sum "$f" ;;
        esac
    done
