import argparse

from .store import Store


def main(argv=None):
    parser = argparse.ArgumentParser(prog="notes")
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list the notes")
    ls.add_argument("--file", default="notes.json")
    args = parser.parse_args(argv)
    store = Store(args.file)
    if args.command == "list":
        for note in store.list_notes():
            print(f"{note.id}\t{note.title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
