"""``python -m docuserve_cli``: the same as the ``docuserve`` console script."""

from docuserve_cli.main import main

main()
