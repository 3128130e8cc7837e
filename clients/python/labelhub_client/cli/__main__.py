"""``python -m labelhub_client.cli``: the ``labelhub`` command line without its console script."""

from labelhub_client.cli import main

main(prog_name="labelhub")
