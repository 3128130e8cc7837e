"""CSV cells holding what others typed stay text when a spreadsheet opens them."""

from __future__ import annotations

import pytest

from core.spreadsheet import spreadsheet_text


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x")',
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        " =1+1",
        "   +cmd",
        " \t\r\n@SUM(A1)",
        "\n-2+3",
        '\uff1dHYPERLINK("http://x")',
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        " \n\uff1d1+1",
        "\u3000=1+1",
    ],
)
def test_a_value_a_spreadsheet_would_read_as_a_formula_gets_a_leading_quote(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("text", ["", "car", "a=b", "person+bike", " car", "\ncar", "e-mail@example.com", "1-2"])
def test_a_value_not_starting_with_a_formula_sign_is_left_as_it_is(text):
    assert spreadsheet_text(text) == text
