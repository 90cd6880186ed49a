"""Test-wide settings: Qt runs offscreen (set before any Qt application exists)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
