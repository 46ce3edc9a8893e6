"""The patient's pages in a real browser (SPEC §4.2, §4.4, §6.4, §8): headless
Chromium on a 375 px phone screen with JavaScript off, driven as a patient
would, from the message in the local outbox to the page that says it is done.
Every step is checked with check_phone_page and kept as a screenshot in
tests/browser/artefacts/."""

from datetime import date, datetime, timedelta

from .conftest import PRACTITIONER, Local, check_phone_page

JEANNE = {"first_name": "Jeanne", "last_name": "Dupont",
          "email": "jeanne.dupont@example.org", "mobile": "06 12 34 56 78"}
JOHN = {"first_name": "John", "last_name": "Smith", "email": "john.smith@example.org",
        "language": "en"}


def test_javascript_is_off(page):
    # Given the browser of every test, when a page has a script, then it does not run.
    page.open("data:text/html,<title>off</title><script>document.title='on'</script>")
    assert page.driver.title == "off"


def test_patient_moves_from_the_confirmation_email(local, page):
    # Given an appointment booked by the practice, with its confirmation e-mail
    booked = local.book(JEANNE)
    confirmation = local.wait_message(booked["id"], "confirmation")
    link = Local.link(confirmation, r"/a/[^/]+$")

    # When the patient opens the e-mail in the outbox and follows its link
    page.open(local.base_url + "/dev/outbox.html")
    check_phone_page(page, "en")
    page.shot("outbox")
    page.click(f'a[href="{link}"]')
    check_phone_page(page, "fr")
    page.wait_for("h1")
    page.shot("appointment")

    # ... chooses another time among the free slots, two days ahead of the
    # practice's clock: past the 24 h deadline, so the new e-mail has links again
    page.click("a.button", "Choisir un autre horaire")
    assert page.driver.current_url == link + "/slots"
    check_phone_page(page, "fr")
    page.shot("slots")
    past_the_deadline = local.now() + timedelta(days=2)
    choice = next(r for r in page.driver.find_elements("css selector", "input[type=radio]")
                  if r.get_attribute("value") != booked["start"]
                  and datetime.fromisoformat(r.get_attribute("value")) >= past_the_deadline)
    new_start = choice.get_attribute("value")
    choice.find_element("xpath", "./ancestor::label").click()
    assert choice.is_selected()
    page.click("form button[type=submit]")

    # Then the page says it is moved, the appointment is, and a new e-mail comes
    page.wait_for('[role=status]', "Votre rendez-vous est déplacé")
    check_phone_page(page, "fr")
    page.shot("moved")
    moved = local.appointment(booked["id"])
    assert (moved["status"], moved["start"]) == ("booked", new_start)
    second = local.wait_message(booked["id"], "confirmation", count=2)
    assert Local.link(second, r"/a/[^/]+$") != link

    # And the old link leads to a page that says to use the new one: 410
    assert local.status_of(link) == 410
    page.open(link)
    check_phone_page(page, "fr")
    page.wait_for("a.phone")
    page.shot("old-link-gone")
    assert local.appointment(booked["id"])["start"] == new_start


def test_patient_cancels_in_english(local, page):
    # Given an English-speaking patient's appointment and its confirmation
    booked = local.book(JOHN, slot_index=1)
    link = Local.link(local.wait_message(booked["id"], "confirmation"), r"/a/[^/]+$")

    # When the patient opens the CANCEL link and confirms with the button
    page.open(link)
    check_phone_page(page, "en")
    page.shot("appointment")
    page.click("form button[type=submit]", "Cancel this appointment")

    # Then the page says so, the appointment is cancelled, an e-mail confirms it
    page.wait_for("[role=status]", "Your appointment is cancelled.")
    check_phone_page(page, "en")
    page.shot("cancelled")
    assert local.appointment(booked["id"])["status"] == "cancelled_by_patient"
    local.wait_message(booked["id"], "cancellation_ack")

    # And the link no longer offers anything
    page.open(link)
    check_phone_page(page, "en")
    page.shot("link-after-cancel")
    assert not page.driver.find_elements("css selector", "form")


def test_practice_cancels_and_the_patient_rebooks_from_the_sms(local, page):
    # Given a booked appointment set « à reporter, à prévenir » by the practice
    booked = local.book(JEANNE, slot_index=2)
    with local.quiet_hours_clear_of_now():
        local.ok("PUT", f"/practitioners/{PRACTITIONER}/appointments/{booked['id']}/status",
                 {"status": "to_reschedule", "send_cancellation_sms": True})
        sms = local.wait_message(booked["id"], "practitioner_cancellation", channel="sms")
    link = Local.link(sms, r"/r/[^/]+$")

    # When the patient follows the SMS's link and books one of the free slots
    page.open(local.base_url + "/dev/outbox.html")
    check_phone_page(page, "en")
    page.shot("outbox")
    page.click(f'a[href="{link}"]')
    check_phone_page(page, "fr")
    page.shot("rebook")
    choice = page.wait_for("input[type=radio]")
    new_start = choice.get_attribute("value")
    choice.find_element("xpath", "./ancestor::label").click()
    page.click("form button[type=submit]")

    # Then the page says it is booked and the old appointment is rebooked
    page.wait_for("[role=status]", "Votre nouveau rendez-vous est réservé")
    check_phone_page(page, "fr")
    page.shot("rebooked")
    assert local.appointment(booked["id"])["status"] == "rebooked"
    day = date.fromisoformat(new_start[:10])
    agenda = local.ok("GET", f"/practitioners/{PRACTITIONER}/appointments"
                             f"?from={day}&to={day + timedelta(days=1)}")
    replacement = [a for a in agenda["appointments"] if a.get("replaces") == booked["id"]]
    assert [a["start"] for a in replacement] == [new_start]

    # And the link works once: then a page that says to call the secretariat
    assert local.status_of(link) == 410
    page.open(link)
    check_phone_page(page, "fr")
    page.wait_for("a.phone")
    page.shot("link-used")


def test_unknown_links_say_what_to_do(local, page):
    # Given links that lead nowhere, when a (French) patient opens them, then 404 pages
    for path in ("/a/not-a-token", "/a/not-a-token/slots", "/r/not-a-token"):
        assert local.status_of(local.base_url + path) == 404
        page.open(local.base_url + path)
        check_phone_page(page, "fr")
        page.wait_for("h1")
        if path == "/a/not-a-token":
            page.shot("404")


def test_after_the_deadline_the_page_gives_the_phone(own_local, page):
    # Given an appointment, and the clock moved to 23 hours before it (deadline: 24)
    booked = own_local.book(JEANNE)
    link = Local.link(own_local.wait_message(booked["id"], "confirmation"), r"/a/[^/]+$")
    own_local.ok("POST", "/dev/clock", {"now": _hours_before(booked["start"], 23)},
                 token=None)

    # When the patient opens the link, then no button, the reason, and the phone
    page.open(link)
    check_phone_page(page, "fr")
    page.wait_for("a.phone")
    assert not page.driver.find_elements("css selector", "form, a.button")
    page.shot("appointment-after-deadline")
    page.open(link + "/slots")
    check_phone_page(page, "fr")
    page.wait_for("a.phone")
    assert not page.driver.find_elements("css selector", "input[type=radio]")
    page.shot("slots-after-deadline")


def _hours_before(rfc3339, hours):
    return (datetime.fromisoformat(rfc3339) - timedelta(hours=hours)).isoformat()
