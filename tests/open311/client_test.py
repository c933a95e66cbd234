"""Gongzhi's Open311 GeoReport v2 endpoint driven by the real client `georeport` (PyPI, 0.3.1).

Run by tests/open311/run.sh, which starts the server and creates two requests:
OPEN311_ROOT (…/open311/v2), OPEN311_COVER_ID (a component with attributes and contacts) and
OPEN311_NOISE_ID (a 12345 service request). The client is used unchanged, in JSON and XML.
"""

import os
import unittest
from datetime import datetime, timedelta, timezone

import requests
from georeport import GeoReport

ROOT = os.environ["OPEN311_ROOT"]
COVER_ID = os.environ["OPEN311_COVER_ID"]
NOISE_ID = os.environ["OPEN311_NOISE_ID"]
COVER = "C0105-02"
NOISE = "S0101-02"
CONTACTS = ["王小明", "13800138000", "wang@example.com"]
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


def as_list(x):
    """xmltodict gives a dict for one repeated element and a list for several."""
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def w3c(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Client(unittest.TestCase):
    fmt = "json"

    def client(self, jurisdiction=None):
        return GeoReport(ROOT, jurisdiction=jurisdiction, output_format=self.fmt)

    def requests_of(self, client, **filters):
        try:
            return as_list(client.get_service_requests(**filters))
        except TypeError:
            # georeport 0.3.1 cannot read an empty XML list: xmltodict turns
            # <service_requests></service_requests> into None and the client subscripts it.
            # Check the document ourselves and read it as the empty list it is.
            self.assertEqual(self.fmt, "xml")
            params = dict(filters, jurisdiction_id=client.jurisdiction) if client.jurisdiction else filters
            r = requests.get(f"{ROOT}/requests.xml", params=params)
            self.assertEqual(r.status_code, 200)
            self.assertIn("<service_requests></service_requests>", r.text)
            return []

    def test_service_list(self):
        for jurisdiction in (None, "510100", "成都市"):
            services = as_list(self.client(jurisdiction).get_service_list())
            self.assertGreater(len(services), 100, jurisdiction)
        cover = next(s for s in services if s["service_code"] == COVER)
        self.assertEqual(cover["service_name"], "电力井盖：井盖破损、移位")
        self.assertEqual(cover["group"], "公用设施")
        self.assertEqual(cover["type"], "realtime")
        self.assertIn(cover["metadata"], (True, "true"))
        self.assertIn("部件", cover["keywords"])
        for s in services:
            self.assertTrue(s["service_code"] and s["service_name"] and s["group"], s)

    def test_definitions(self):
        client = self.client()
        seen = set()
        for code in (COVER, NOISE, "E0102-01"):
            d = client.get_service_definition(code)
            self.assertEqual(d["service_code"], code)
            attrs = d["attributes"] if self.fmt == "json" else as_list(d["attributes"]["attribute"])
            self.assertGreaterEqual(len(attrs), 5)
            orders = [int(a["order"]) for a in attrs]
            self.assertEqual(orders, list(range(1, len(attrs) + 1)))
            for a in attrs:
                seen.add(a["datatype"])
                if a["datatype"].endswith("valuelist"):
                    values = a["values"] if self.fmt == "json" else as_list(a["values"]["value"])
                    self.assertTrue(all(v["key"] and v["name"] for v in values), a)
            hazard = next(a for a in attrs if a["code"] == "hazard")
            required = hazard["required"] in (True, "true")
            self.assertEqual(required, code != NOISE, code)
        self.assertEqual(seen, DATATYPES)

    def test_request_list_and_filters(self):
        # The city may hold other cases too (the demo's): check ours, and that every answer
        # meets the filter.
        client = self.client("510100")
        mine = {COVER_ID, NOISE_ID}

        def ids(rs):
            return [str(r["service_request_id"]) for r in rs]

        everything = self.requests_of(client)
        self.assertTrue(mine <= set(ids(everything)))
        times = [r["requested_datetime"] for r in everything]
        self.assertEqual(times, sorted(times, reverse=True), "newest first")
        for r in everything:
            self.assertIn(r["status"], ("open", "closed"))
            self.assertTrue(r["requested_datetime"].endswith("+08:00"), r)
            datetime.fromisoformat(r["requested_datetime"])

        covers = self.requests_of(client, service_code=COVER)
        self.assertEqual({r["service_code"] for r in covers}, {COVER})
        self.assertIn(COVER_ID, ids(covers))
        self.assertNotIn(NOISE_ID, ids(covers))
        both = self.requests_of(client, service_code=f"{COVER},{NOISE}")
        self.assertEqual({r["service_code"] for r in both}, {COVER, NOISE})
        self.assertTrue(mine <= set(ids(both)))

        open_ = self.requests_of(client, status="open")
        self.assertTrue(all(r["status"] == "open" for r in open_))
        self.assertTrue(mine <= set(ids(open_)))
        closed = self.requests_of(client, status="closed")
        self.assertTrue(all(r["status"] == "closed" for r in closed))
        self.assertFalse(mine & set(ids(closed)))

        now = datetime.now(timezone.utc)
        start, end = now - timedelta(days=1), now + timedelta(hours=1)
        window = self.requests_of(client, start_date=w3c(start), end_date=w3c(end))
        self.assertTrue(mine <= set(ids(window)))
        for r in window:
            self.assertTrue(start <= datetime.fromisoformat(r["requested_datetime"]) <= end, r)
        self.assertEqual(self.requests_of(client, start_date="2001-01-01T00:00:00Z", end_date="2001-02-01T00:00:00Z"), [])

        # service_request_id overrides the other filters, as the specification says.
        picked = self.requests_of(client, service_request_id=f"{COVER_ID},{NOISE_ID}", status="closed")
        self.assertEqual(sorted(ids(picked)), sorted(mine))

    def test_single_request(self):
        client = self.client()
        cover = client.get_service_request(COVER_ID)
        self.assertEqual(str(cover["service_request_id"]), COVER_ID)
        self.assertEqual(cover["service_code"], COVER)
        self.assertEqual(cover["status"], "open")
        self.assertIn("电力井盖破损", cover["description"])
        self.assertIn("危险程度：高", cover["description"])
        self.assertTrue(cover["address_id"])
        self.assertTrue(cover["address"])
        for field in ("lat", "long"):
            float(cover[field])
        noise = client.get_service_request(NOISE_ID)
        self.assertEqual(noise["service_code"], NOISE)
        self.assertIn(noise["description"], (None, ""), "a 12345 request's text is not public")

    def test_no_contacts_anywhere(self):
        client = self.client()
        texts = [
            repr(self.requests_of(client)),
            repr(client.get_service_request(COVER_ID)),
            requests.get(f"{ROOT}/requests.{self.fmt}").text,
            requests.get(f"{ROOT}/requests/{COVER_ID}.{self.fmt}").text,
        ]
        for text in texts:
            for secret in CONTACTS:
                self.assertNotIn(secret, text)

    def test_errors(self):
        with self.assertRaises(requests.HTTPError) as e:
            self.client().get_service_definition("X9999-01")
        self.assertEqual(e.exception.response.status_code, 404)
        with self.assertRaises(requests.HTTPError) as e:
            self.client("Springfield").get_service_list()
        self.assertEqual(e.exception.response.status_code, 404)
        with self.assertRaises(requests.HTTPError) as e:
            self.client().get_service_request("999999999")
        self.assertEqual(e.exception.response.status_code, 404)
        with self.assertRaises(requests.HTTPError) as e:
            self.client().get_service_requests(status="pending")
        self.assertEqual(e.exception.response.status_code, 400)
        body = e.exception.response.text
        if self.fmt == "json":
            self.assertEqual(e.exception.response.json()[0]["code"], 400)
        else:
            self.assertIn("<errors><error><code>400</code>", body)


class ClientXml(Client):
    fmt = "xml"


if __name__ == "__main__":
    unittest.main()
