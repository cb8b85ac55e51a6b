"""``python -m tinyms.serving``: serve the configured servables in the foreground."""

from tinyms.serving.server import main

raise SystemExit(main())
