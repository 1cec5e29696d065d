"""Adapters to the world outside the portal: PDF rendering, mail, random.org, storage."""
