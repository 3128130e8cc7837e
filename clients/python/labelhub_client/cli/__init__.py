"""The ``labelhub`` command line: agencies pull images and push labels, staff run image sets and campaigns.

``labelhub --help`` lists the commands; ``labelhub COMMAND --help`` explains one.
"""

from labelhub_client.cli import agency, staff  # noqa: F401  (they add their commands to ``main``)
from labelhub_client.cli.app import main

__all__ = ["main"]
