"""Calendars beyond the primary one through the `caldav` client from PyPI.

    caldav_calendars.py BASE_URL USER PASSWORD COMMAND [ARGS...]

Commands (each prints lines crates/deputy/tests/caldav_calendars.rs checks):
  calendars              "calendar: NAME" per calendar of the caller's home, sorted
  make NAME UID SUMMARY  make_calendar(name=NAME) at the library's own URL,
                         save an event there, read it back: "made: NAME",
                         "saved: UID", "read: SUMMARY", then "found: NAME"
                         when principal.calendar(name=NAME) finds it again
"""

import sys

import caldav


def ics(uid, summary):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20300105T090000Z\r\n"
        f"DTEND:20300105T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def main():
    base, user, password, command, *args = sys.argv[1:]
    client = caldav.DAVClient(url=base + "/dav/", username=user, password=password)
    me = client.principal()
    if command == "calendars":
        for name in sorted(str(c.get_display_name()) for c in me.calendars()):
            print(f"calendar: {name}")
    elif command == "make":
        name, uid, summary = args
        # The library picks a fresh UUID for the URL and sends the name as
        # the displayname (then PROPPATCHes it again).
        cal = me.make_calendar(name=name)
        print(f"made: {cal.get_display_name()}")
        print(f"path: {cal.url.path}")
        cal.save_event(ics(uid, summary))
        print(f"saved: {uid}")
        for event in cal.events():
            print(f"read: {event.icalendar_component.get('summary')}")
        again = me.calendar(name=name)
        if again.event_by_uid(uid) is not None:
            print(f"found: {name}")
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
