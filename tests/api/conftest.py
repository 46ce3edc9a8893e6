"""Local mode for the API's contract run: the browser tests' own fixtures
(tests/browser/conftest.py builds agenda-local and runs it on a free port),
loaded from there so both runs start the server one way."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "browser_fixtures", Path(__file__).resolve().parent.parent / "browser" / "conftest.py")
_browser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_browser)

PRACTITIONER = _browser.PRACTITIONER
TOKEN = _browser.TOKEN
Local = _browser.Local
agenda_local = _browser.agenda_local
own_local = _browser.own_local
