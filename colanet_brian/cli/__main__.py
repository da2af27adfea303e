"""``python -m colanet_brian.cli``: same as the ``colanet`` command."""

import sys

from . import main

sys.exit(main())
