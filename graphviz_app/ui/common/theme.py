"""Themes: light, dark and colour-blind-safe palettes, and a presentation mode.

A :class:`Theme` is plain data read by the scene items, the legends and the
inspector; :class:`ThemeManager` picks one (the OS dark setting by default),
remembers the choice in QSettings and tells the window when it changes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.layout.style import (
    CLUSTER_BORDER,
    CLUSTER_FILL,
    EDGE_COLOR,
    HIGHLIGHT_COLOR,
    KIND_BORDER,
    KIND_FILL,
    SELECTED_COLOR,
)

logger = logging.getLogger(__name__)

SYSTEM = "system"  # follow the OS light/dark setting
THEME_KEY, PRESENTATION_KEY = "theme", "presentation"
PRESENTATION_FONT = 16.0  # label points in presentation mode (10 otherwise)
#: Okabe-Ito hues, for categories (modules, devices, dtypes) in every theme.
OKABE_ITO = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7")


def _kinds(*colors: str) -> Mapping[NodeKind, str]:
    return MappingProxyType(dict(zip(NodeKind, colors, strict=True)))


@dataclass(frozen=True)
class Theme:
    """Every colour and width the window draws with."""

    name: str
    title: str
    dark: bool
    background: str
    text: str
    muted: str
    link: str
    error: str
    edge: str
    highlight: str
    selected: str
    cluster_border: str
    cluster_fill: str
    cluster_text: str
    kind_fill: Mapping[NodeKind, str]
    kind_border: Mapping[NodeKind, str]
    categorical: tuple[str, ...] = OKABE_ITO
    border_width: float = 1.2
    edge_width: float = 1.1
    font_scale: float = 1.0  # widgets and legends
    presentation: bool = field(default=False)

    def presented(self) -> Theme:
        """This theme for a projector: thick edges and borders, large text."""
        return dataclasses.replace(
            self, presentation=True, border_width=2.6, edge_width=2.8, font_scale=1.45
        )

    def palette(self) -> QPalette:
        """The widget palette: the style's own for light themes, a dark one for dark."""
        palette = QPalette()
        if not self.dark:
            return palette
        roles = QPalette.ColorRole
        for role, color in (
            (roles.Window, "#2b2d31"),
            (roles.WindowText, self.text),
            (roles.Base, self.background),
            (roles.AlternateBase, "#2b2d31"),
            (roles.Text, self.text),
            (roles.Button, "#35373c"),
            (roles.ButtonText, self.text),
            (roles.Highlight, "#3d6fb4"),
            (roles.HighlightedText, "#ffffff"),
            (roles.ToolTipBase, "#35373c"),
            (roles.ToolTipText, self.text),
            (roles.Link, self.link),
            (roles.PlaceholderText, self.muted),
        ):
            palette.setColor(role, QColor(color))
        palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor(self.muted))
        palette.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor(self.muted))
        palette.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor(self.muted))
        return palette


LIGHT = Theme(
    name="light",
    title="&Light",
    dark=False,
    background="#ffffff",
    text="#1a1a1a",
    muted="#666666",
    link="#0056a0",
    error="#b00000",
    edge=EDGE_COLOR,
    highlight=HIGHLIGHT_COLOR,
    selected=SELECTED_COLOR,
    cluster_border=CLUSTER_BORDER,
    cluster_fill=CLUSTER_FILL,
    cluster_text="#4a4a66",
    kind_fill=MappingProxyType(dict(KIND_FILL)),
    kind_border=MappingProxyType(dict(KIND_BORDER)),
)
# order of NodeKind: output, backward, view, copy_slices, custom, parameter, input, module
DARK = Theme(
    name="dark",
    title="&Dark",
    dark=True,
    background="#1e1f22",
    text="#e6e6e6",
    muted="#9a9ea6",
    link="#7ab8ff",
    error="#ff6b6b",
    edge="#a0a4aa",
    highlight="#56b4e9",
    selected="#7ab8ff",  # the link colour: the selection ring is drawn in it
    cluster_border="#6a6a80",
    cluster_fill="#26282d",
    cluster_text="#b4b4cc",
    kind_fill=_kinds(
        "#1f5f4a", "#3a3d42", "#5c5520", "#6b3a1c", "#5a3550", "#1f4a66", "#6a4e14", "#3d3d66"
    ),
    kind_border=_kinds(
        "#3fcf9f", "#9a9ea6", "#e0d050", "#f08a50", "#d088b8", "#56b4e9", "#e69f00", "#9a9ae0"
    ),
    categorical=("#e69f00", "#56b4e9", "#3fcf9f", "#f0e442", "#7ab8ff", "#f08a50", "#d088b8"),
)
COLOUR_BLIND = Theme(
    name="colour-blind",
    title="&Colour-blind safe (high contrast)",
    dark=False,
    background="#ffffff",
    text="#000000",
    muted="#444444",
    link="#0072b2",
    error="#d55e00",
    edge="#000000",
    highlight="#0072b2",
    selected="#0072b2",  # the link colour: the selection ring is drawn in it
    cluster_border="#000000",
    cluster_fill="#f2f2f2",
    cluster_text="#000000",
    kind_fill=_kinds(
        "#009e73", "#ffffff", "#f0e442", "#d55e00", "#cc79a7", "#56b4e9", "#e69f00", "#bbbbbb"
    ),
    kind_border=_kinds(*(["#000000"] * len(NodeKind))),
    border_width=1.6,
    edge_width=1.4,
)
THEMES = {theme.name: theme for theme in (LIGHT, DARK, COLOUR_BLIND)}


def system_is_dark() -> bool:
    """True when the OS asks applications for a dark colour scheme."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return False
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


class ThemeManager(QObject):
    """The chosen theme ("system" follows the OS), presentation mode, and their settings."""

    theme_changed = Signal(object)  # the Theme now in use

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        chosen = str(settings.value(THEME_KEY, SYSTEM) or SYSTEM)
        self.choice = chosen if chosen in THEMES or chosen == SYSTEM else SYSTEM
        self.presentation = str(settings.value(PRESENTATION_KEY, "false")).lower() == "true"
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.styleHints().colorSchemeChanged.connect(self._on_hints_color_scheme_changed)

    @property
    def theme(self) -> Theme:
        """The theme to draw with now."""
        name = self.choice
        if name == SYSTEM:
            name = DARK.name if system_is_dark() else LIGHT.name
        theme = THEMES[name]
        return theme.presented() if self.presentation else theme

    def choose(self, name: str) -> None:
        """Use theme ``name`` (or "system") from now on, and remember it."""
        if name not in THEMES and name != SYSTEM:
            raise ValueError(f"unknown theme {name!r}")
        self.choice = name
        self.settings.setValue(THEME_KEY, name)
        self.theme_changed.emit(self.theme)

    def set_presentation(self, on: bool) -> None:
        """Large fonts and thick lines for projectors (remembered)."""
        self.presentation = on
        self.settings.setValue(PRESENTATION_KEY, "true" if on else "false")
        self.theme_changed.emit(self.theme)

    def _on_hints_color_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.choice == SYSTEM:
            logger.info("OS colour scheme changed to %s", scheme)
            self.theme_changed.emit(self.theme)
