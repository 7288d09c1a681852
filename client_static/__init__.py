"""The browser client, shipped inside the wheel as ``server.client_static`` (see pyproject.toml)."""
