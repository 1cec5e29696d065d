"""Rebuild the portal's web and PDF fonts from Debian's Noto Sans (fonts-noto-core).

Developer tool, not needed at run time: the subsets it writes are committed under
portal/static/fonts/. Needs ``pip install fonttools brotli``.

    python scripts/build_fonts.py [/usr/share/fonts/truetype/noto]
"""

import sys
from pathlib import Path

from fontTools import subset

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/noto")
TARGET = Path(__file__).resolve().parent.parent / "portal" / "static" / "fonts"
# Basic Latin and Latin-1, Cyrillic with every Kazakh letter, punctuation, the
# tenge and other currency signs, arrows and the numero sign.
UNICODES = "U+0020-007E,U+00A0-00FF,U+0131,U+0152-0153,U+0400-04FF,U+0500-052F,U+2010-2027,U+202F,U+2030-203A,U+20A0-20C0,U+2116,U+2122,U+2190-2193,U+2212"
STYLES = ("Regular", "Bold", "Italic")

TARGET.mkdir(parents=True, exist_ok=True)
for style in STYLES:
    src = SOURCE / f"NotoSans-{style}.ttf"
    for flavor, suffix in ((None, "ttf"), ("woff2", "woff2")):
        out = TARGET / f"NotoSans-{style}.{suffix}"
        args = [
            str(src),
            f"--unicodes={UNICODES}",
            f"--output-file={out}",
            "--layout-features=*",
            "--name-IDs=*",
            "--notdef-outline",
        ]
        if flavor:
            args.append(f"--flavor={flavor}")
        subset.main(args)
        print(out.relative_to(TARGET.parent.parent.parent), out.stat().st_size, "bytes")
