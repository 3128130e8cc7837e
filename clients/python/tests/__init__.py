"""The client's tests, a package (``tests``, rooted at clients/python) so that its ``conftest`` never shadows the
repository's (``from conftest import client_for`` in the server's tests)."""
