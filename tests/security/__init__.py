"""Tests of the security findings (OWASP ASVS level 2 hardening), one module per finding."""
