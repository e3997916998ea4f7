import json
from pathlib import Path

from .models import Note


class Store:
    def __init__(self, path):
        self.path = Path(path)

    def load(self):
        if not self.path.exists():
            return []
        return [Note(**n) for n in json.loads(self.path.read_text())]

    def list_notes(self):
        return sorted(self.load(), key=lambda n: n.id)
