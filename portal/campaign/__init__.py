"""The campaign's rules as plain functions: no request, no template in sight."""

# The campaign's two languages: the protocol and the act are made in both (the act's
# clause 6), whatever languages the site itself offers.
LANGUAGES = ("kk", "ru")
