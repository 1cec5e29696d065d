"""The campaign's rules as plain functions: no request, no template in sight."""
