import pytest

from imagesets import hooks
from imagesets.hooks import ImageAdminExtension


@pytest.fixture
def no_hooks(monkeypatch):
    """An empty registry for the test (campaigns registered its own when the apps loaded)."""
    monkeypatch.setattr(hooks, "_image_readers", [])
    monkeypatch.setattr(hooks, "_image_admin_extensions", [])


def test_without_a_registered_reader_no_labeler_reads_an_image(no_hooks):
    assert not hooks.image_readable_by_labeler(user=object(), image_id=1)


def test_a_labeler_reads_an_image_when_any_registered_reader_lets_it(no_hooks):
    asked = []

    def never(*, user, image_id):
        asked.append(("never", image_id))
        return False

    def only_seven(*, user, image_id):
        asked.append(("only_seven", image_id))
        return image_id == 7

    hooks.register_image_reader(never)
    hooks.register_image_reader(only_seven)
    hooks.register_image_reader(never)  # again: still asked once

    assert hooks.image_readable_by_labeler(user=object(), image_id=7)
    assert not hooks.image_readable_by_labeler(user=object(), image_id=8)
    assert asked == [("never", 7), ("only_seven", 7), ("never", 8), ("only_seven", 8)]


def test_campaigns_registers_its_reader_when_the_apps_load():
    from campaigns.selectors import labeler_can_read_image

    assert labeler_can_read_image in hooks._image_readers


def test_image_admin_extensions_are_merged_in_registration_order(no_hooks):
    def first_action(modeladmin, request, queryset): ...

    def second_action(modeladmin, request, queryset): ...

    def field(obj): ...

    hooks.register_image_admin_extension(ImageAdminExtension(list_filters=("a",), actions=(first_action,)))
    hooks.register_image_admin_extension(ImageAdminExtension(actions=(second_action,), readonly_fields=(field,)))

    assert hooks.image_admin_extensions() == ImageAdminExtension(
        list_filters=("a",), actions=(first_action, second_action), readonly_fields=(field,)
    )
