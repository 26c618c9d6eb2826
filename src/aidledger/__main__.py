"""``python -m aidledger`` runs the command line."""

import sys

from aidledger.cli import main

sys.exit(main())
