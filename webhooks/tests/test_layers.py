"""The webhooks sit below every app, so every app can emit events."""

from imagesets.tests.test_hooks import imported_modules


def test_the_webhooks_import_no_app_above_them():
    above = {"accounts", "imagesets", "campaigns"}
    found = {(path, module) for path, module in imported_modules("webhooks") if module.split(".")[0] in above}
    assert found == set()
