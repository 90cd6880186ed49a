"""``python -m graphviz_app``."""

import sys

from graphviz_app.app import main

sys.exit(main())
