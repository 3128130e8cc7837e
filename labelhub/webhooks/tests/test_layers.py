"""The webhooks sit at the bottom of the dependency chain, so every app can emit events."""

from imagesets.tests.test_hooks import imported_modules


def test_the_webhooks_import_no_app_above_labelhub():
    above = {"accounts", "imagesets", "campaigns"}
    found = {
        (path, module)
        for path, module in imported_modules("labelhub")
        if path.startswith("labelhub/webhooks/") and module.split(".")[0] in above
    }
    assert found == set()
