"""`python -m server …` is the same as the `kenniskring` command."""

from server.cli import main

raise SystemExit(main())
