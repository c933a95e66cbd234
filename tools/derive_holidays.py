"""Write the Chinese public holidays and make-up working days (调休) as CSV.

Input: the dist/chinese-days.json of the npm package chinese-days, whose keys `holidays` and
`workdays` map "YYYY-MM-DD" to "English name,中文名,days". Output columns:
date,kind,name_en,name_zh  with kind `holiday` (a day off) or `workday` (a make-up working day on
a weekend). Only the years FIRST..LAST are kept; read by crates/core/src/calendar.rs.
"""
import csv
import json
import sys

path, version = sys.argv[1], sys.argv[2]
first, last = 2024, 2026

with open(path, encoding="utf-8") as f:
    data = json.load(f)

rows = []
for key, kind in (("holidays", "holiday"), ("workdays", "workday")):
    for date, value in data[key].items():
        if first <= int(date[:4]) <= last:
            name_en, name_zh = value.split(",")[:2]
            rows.append((date, kind, name_en, name_zh))
rows.sort()
years = sorted({r[0][:4] for r in rows})
if years[-1] != str(last):
    sys.exit(f"chinese-days {version} has no data for {last}")

out = csv.writer(sys.stdout, lineterminator="\n")
sys.stdout.write(
    f"# source: npm chinese-days {version} (MIT), derived by tools/derive-holidays.sh; "
    f"years {first}-{last} (this version has no {last + 1} yet)\n"
)
out.writerow(["date", "kind", "name_en", "name_zh"])
out.writerows(rows)
