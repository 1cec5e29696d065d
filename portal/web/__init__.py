"""What the blueprints share: languages, absolute URLs, access rules, templates, error pages, headers."""
