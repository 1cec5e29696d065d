"""One test module per finding of the ASVS level 2 review, named after it."""
