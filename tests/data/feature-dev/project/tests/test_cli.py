import io
import json
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

from notes.cli import main


class ListTest(unittest.TestCase):
    def test_lists_notes_in_id_order(self):
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "notes.json"
            f.write_text(json.dumps([{"id": 2, "title": "b"}, {"id": 1, "title": "a"}]))
            out = io.StringIO()
            with redirect_stdout(out):
                main(["list", "--file", str(f)])
            self.assertEqual(out.getvalue(), "1\ta\n2\tb\n")
