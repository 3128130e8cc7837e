import re

from labelhub.exceptions import InvalidName

TITLE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_MAX_LENGTH = 53


def contains_nul(value) -> bool:
    """Whether a JSON value holds a NUL character anywhere (keys included).

    PostgreSQL stores no NUL in text or jsonb: such input must be refused (or found
    unknown) before it reaches a query, never end as a 500.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


def validate_title(title) -> str:
    """Image-set and campaign titles become container and dataset names.

    1-53 lowercase ASCII letters, digits and single dashes, not starting or
    ending with a dash; anything else is a 422.
    """
    if not isinstance(title, str) or not (1 <= len(title) <= TITLE_MAX_LENGTH) or not TITLE_RE.match(title):
        raise InvalidName(
            "Invalid title: use 1-53 lowercase letters, digits and single dashes, "
            "not starting or ending with a dash"
        )
    return title
