#!/usr/bin/env python3
"""Starts the chDB HTTP front (the chdb_front package beside this file); see ``--help``."""

import sys

from chdb_front.main import main

if __name__ == "__main__":
    sys.exit(main())
