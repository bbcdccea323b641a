"""The package loads without chdb: only starting the engine imports it."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import unittest

import chdb_front


class ImportTest(unittest.TestCase):
    def test_no_module_imports_chdb_when_loaded(self) -> None:
        names = [info.name for info in pkgutil.iter_modules(chdb_front.__path__, "chdb_front.")]
        self.assertIn("chdb_front.engine", names)
        for name in names:
            importlib.import_module(name)
        self.assertEqual([m for m in sys.modules if m == "chdb" or m.startswith("chdb.")], [])


if __name__ == "__main__":
    unittest.main()
