"""Drives Deputy's CalDAV door with the `caldav` client library from PyPI.

    caldav_client.py BASE_URL USER PASSWORD COMMAND [ARGS...]

Commands (each prints lines crates/deputy/tests/caldav.rs checks):
  discover                       "write-for: HREF" / "read-for: HREF" lines
  list PRINCIPAL                 "event: SUMMARY" per event of its calendar, sorted
  create PRINCIPAL UID SUMMARY [private]
                                 "created" or "refused: STATUS"
  proxy PRINCIPAL KIND HREF...   PROPPATCH of the owner's proxy group: "proxy: STATUS"
  hostile PRINCIPAL              bad input; "NAME: STATUS SECONDS DETAIL" lines
"""

import base64
import sys
import time
import urllib.error
import urllib.request
from xml.etree import ElementTree as ET

import caldav
from caldav.lib import error

CS = "{http://calendarserver.org/ns/}"


def ics(uid, summary, extra=""):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20300105T090000Z\r\n"
        f"DTEND:20300105T100000Z\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def calendar_of(client, href):
    # Found the way a client does: the principal's calendar-home-set, then
    # the calendars in it.
    calendars = caldav.Principal(client=client, url=client.url.join(href)).calendars()
    assert len(calendars) == 1, calendars
    return calendars[0]


def main():
    base, user, password, command, *args = sys.argv[1:]
    client = caldav.DAVClient(url=base + "/dav/", username=user, password=password)
    me = client.principal()
    if command == "discover":
        body = (
            '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
            "<D:prop><CS:calendar-proxy-write-for/><CS:calendar-proxy-read-for/></D:prop></D:propfind>"
        )
        root = ET.fromstring(client.propfind(str(me.url), body, 0).raw)
        for kind in ("write", "read"):
            for prop in root.iter(f"{CS}calendar-proxy-{kind}-for"):
                for h in prop.iter("{DAV:}href"):
                    print(f"{kind}-for: {h.text}")
    elif command == "list":
        cal = calendar_of(client, args[0])
        summaries = sorted(str(e.icalendar_component.get("summary")) for e in cal.events())
        for s in summaries:
            print(f"event: {s}")
    elif command == "create":
        cal = calendar_of(client, args[0])
        extra = "CLASS:PRIVATE\r\n" if args[3:] == ["private"] else ""
        try:
            cal.save_event(ics(args[1], args[2], extra))
            print("created")
        except error.DAVError as e:
            print(f"refused: {e}")
    elif command == "proxy":
        href, kind, members = args[0], args[1], args[2:]
        body = (
            '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:group-member-set>'
            + "".join(f"<D:href>{m}</D:href>" for m in members)
            + "</D:group-member-set></D:prop></D:set></D:propertyupdate>"
        )
        try:
            r = client.request(str(client.url.join(f"{href}calendar-proxy-{kind}/")), "PROPPATCH", body)
            print(f"proxy: {r.status}")
        except error.AuthorizationError:
            print("proxy: 403")
    elif command == "hostile":
        cal = calendar_of(client, args[0])
        put = {"Content-Type": "text/calendar; charset=utf-8"}

        def run(name, url, method, body, headers):
            # Plain HTTP here: the library raises on 403 and hides the
            # precondition element this test looks for.
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            request = urllib.request.Request(
                str(url), data=body.encode(), method=method, headers={**headers, "Authorization": f"Basic {token}"}
            )
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    status, text = r.status, r.read().decode(errors="replace")
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode(errors="replace")
            detail = "valid-calendar-data" if "valid-calendar-data" in text else ""
            print(f"{name}: {status} {time.monotonic() - started:.2f} {detail}".rstrip())
            return text

        run("malformed", cal.url.join("bad.ics"), "PUT", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nonsense\r\n", put)
        endless = ics("endless", "Daily forever", "RRULE:FREQ=DAILY\r\n")
        run("endless-put", cal.url.join("endless.ics"), "PUT", endless, put)
        query = (
            '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            '<C:time-range start="20300101T000000Z" end="20400101T000000Z"/></C:comp-filter></C:comp-filter>'
            "</C:filter></C:calendar-query>"
        )
        text = run("query", cal.url, "REPORT", query, {"Depth": "1", "Content-Type": "application/xml"})
        print(f"query-endless-found: {'endless.ics' in text}")
        attendees = "".join(f"ATTENDEE:mailto:guest{i}@example.com\r\n" for i in range(5000))
        run("attendees", cal.url.join("crowd.ics"), "PUT", ics("crowd", "Crowd", attendees), put)
        deep = "<a>" * 10000 + "</a>" * 10000
        run("deep-xml", cal.url, "REPORT", deep, {"Depth": "1", "Content-Type": "application/xml"})
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
