"""Set one message's translation in a catalogue: for small fixes after `translate update`.

python scripts/set_translation.py kk "English msgid" "Қазақша аударма"
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

lang, msgid, msgstr = sys.argv[1:4]
path = (
    Path(__file__).resolve().parent.parent / "translations" / lang / "LC_MESSAGES" / "messages.po"
)
with path.open("rb") as handle:
    catalog = read_po(handle, locale=lang)
message = catalog.get(msgid)
if message is None:
    sys.exit(f"no message {msgid!r} in {path}: run `flask --app wsgi translate update` first")
message.string = msgstr
message.flags.discard("fuzzy")
with path.open("wb") as handle:
    write_po(handle, catalog, omit_header=False, no_location=True, sort_output=True, width=76)
print(f"{lang}: {msgid!r} -> {msgstr!r}")
