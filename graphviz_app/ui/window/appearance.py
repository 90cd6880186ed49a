"""How the window looks: the theme and presentation mode, and what node colours mean.

:class:`Appearance` owns the View > Theme and View > Colour by menus, applies the
theme to every part of the window (palette, scene items, legends, inspector,
histograms, overview map) and keeps the Colour-by choice in step with the backward
stepper's "Colour by gradient" box.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QFont
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QToolBar

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import BackwardResult, PictureResult
from graphviz_app.ui.backward.stepper import BackwardStepper, readable_scale
from graphviz_app.ui.common.actions import explain_when_disabled, make_action
from graphviz_app.ui.common.theme import PRESENTATION_FONT, SYSTEM, THEMES, Theme, ThemeManager
from graphviz_app.ui.graph.colour_by import (
    MODE_TIPS,
    MODE_TITLES,
    ColourLegend,
    ColourMode,
    colouring,
)
from graphviz_app.ui.graph.minimap import Minimap
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.panels.histogram import HistogramPanel
from graphviz_app.ui.panels.inspector import InspectorView
from graphviz_app.ui.panels.lesson import LessonView

COLOUR_KEY = "colour_by"
# Presentation mode opens no further out than this: 16 pt labels drawn at about 12 px.
READABLE_SCALE = 0.75
#: A fit that draws labels below this share of the stepper's readable size (9 px: about
#: 7 px) opens zoomed in instead, when the graph at readable size covers at most
#: SMALL_GRAPH_SCREENS viewports (the built-in lessons; not a 130-node GPT).
CRAMPED = 0.75
SMALL_GRAPH_SCREENS = 8.0


class AppearanceHost(Protocol):
    """What the appearance uses of the window: every part it themes."""

    result: PictureResult | None
    settings: QSettings
    style_options: GraphStyle
    controller: SessionController
    scene: GraphScene
    view: GraphView
    stepper: BackwardStepper
    lesson: LessonView
    inspector: InspectorView
    histograms: HistogramPanel
    minimap: Minimap

    @property
    def qt_window(self) -> QMainWindow:
        """The window itself: palette, font, toolbar rows."""
        ...

    @property
    def find_toolbar(self) -> QToolBar | None:
        """The find box's toolbar, once built."""
        ...

    def restyle(self, **changes: object) -> None:
        """Lay the picture out again with ``changes`` to its style."""
        ...

    def refresh_inspector(self) -> None:
        """Show the selected node again."""
        ...


class Appearance(QObject):
    """Theme, presentation mode and Colour-by for one window."""

    def __init__(self, window: AppearanceHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.themes = ThemeManager(window.settings, self)
        self.legend = ColourLegend(window.view.viewport())
        window.view.set_corner_overlay(self.legend, Qt.Corner.BottomLeftCorner)
        saved = str(window.settings.value(COLOUR_KEY, ColourMode.KIND.value))
        self.mode = ColourMode(saved) if saved in {m.value for m in ColourMode} else ColourMode.KIND
        self.theme_menu = self._make_theme_menu()
        self.colour_menu = self._make_colour_menu()
        self.presentation_action = make_action(
            self,
            "&Presentation mode",
            self.themes.set_presentation,
            "Ctrl+Shift+P",
            "Large text, thick lines and borders, for projectors",
        )
        self.presentation_action.setCheckable(True)
        self.presentation_action.setChecked(self.themes.presentation)
        self.themes.theme_changed.connect(self._on_themes_theme_changed)
        window.stepper.panel.colour_box.toggled.connect(self._on_colour_box_toggled)
        window.controller.backward_ready.connect(self._on_controller_backward_ready)
        self._set_grad_available(False)

    @property
    def theme(self) -> Theme:
        """The theme in use."""
        return self.themes.theme

    def _make_theme_menu(self) -> QMenu:
        menu = QMenu("&Theme", self.window.qt_window)
        group = QActionGroup(self)
        choices = [(SYSTEM, "Follow the &system", "Light or dark, as the OS is set")]
        choices += [(name, t.title, f"The {name} theme") for name, t in THEMES.items()]
        self.theme_actions: dict[str, QAction] = {}
        for name, title, tip in choices:
            action = make_action(self, title, lambda _=False, n=name: self.themes.choose(n))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.setCheckable(True)
            action.setChecked(name == self.themes.choice)
            group.addAction(action)
            menu.addAction(action)
            self.theme_actions[name] = action
        return menu

    def _make_colour_menu(self) -> QMenu:
        menu = QMenu("&Colour nodes by", self.window.qt_window)
        group = QActionGroup(self)
        self.colour_actions: dict[ColourMode, QAction] = {}
        for mode in ColourMode:
            action = make_action(
                self,
                MODE_TITLES[mode],
                lambda _=False, m=mode: self.set_mode(m),
                None,
                MODE_TIPS[mode],
            )
            action.setCheckable(True)
            action.setChecked(mode is self.mode)
            group.addAction(action)
            menu.addAction(action)
            self.colour_actions[mode] = action
        explain_when_disabled(self.colour_actions[ColourMode.GRADIENT], "run backward (F6) first")
        return menu

    # --- colour by ------------------------------------------------------------
    def set_mode(self, mode: ColourMode) -> None:
        """Colour nodes by ``mode`` from now on (remembered)."""
        self.mode = mode
        self.colour_actions[mode].setChecked(True)
        self.window.settings.setValue(COLOUR_KEY, mode.value)
        box = self.window.stepper.panel.colour_box
        box.blockSignals(True)
        box.setChecked(mode is ColourMode.GRADIENT)
        box.blockSignals(False)
        self.window.stepper.reapply()
        self.apply_colours()

    def apply_colours(self) -> None:
        """Fill the scene's nodes for the current mode and show its legend."""
        result = self.window.result
        if result is None:
            self.legend.show_colouring(None, self.theme)
            return
        shown = colouring(self.mode, result.visible, self.theme)
        for node_id, item in self.window.scene.nodes.items():
            item.set_base_fill(shown.fills.get(node_id))
        # The stepper draws its own gradient legend (top left).
        legend = None if self.mode is ColourMode.GRADIENT else shown
        self.legend.show_colouring(legend, self.theme)
        self.window.view.place_overlays()

    def current_fills(self) -> dict[str, str]:
        """Node id -> fill, as drawn now (for exports)."""
        stepper_fills = self.window.stepper.current_fills()
        if stepper_fills or self.window.result is None or self.mode is ColourMode.GRADIENT:
            return stepper_fills
        return dict(colouring(self.mode, self.window.result.visible, self.theme).fills)

    def _set_grad_available(self, available: bool) -> None:
        self.colour_actions[ColourMode.GRADIENT].setEnabled(available)
        if not available and self.mode is ColourMode.GRADIENT:
            self.mode = ColourMode.KIND  # until backward runs again (the setting stays)
            self.colour_actions[ColourMode.KIND].setChecked(True)

    def on_picture_shown(self, new_graph: bool) -> None:
        """Re-colour a new picture (a new graph has no gradients yet)."""
        if new_graph:
            self._set_grad_available(False)
        self.apply_colours()

    def fit_new_layout(self) -> bool:
        """Fit a newly laid-out picture; when that leaves the labels too small to read,
        zoom in on the output instead (where backward starts; F still fits everything,
        and the overview map appears). Presentation mode does it below
        :data:`READABLE_SCALE`; otherwise only for a small graph (a big model opens on
        its overall shape). True when it zoomed in."""
        view = self.window.view
        view.fit_all()
        scale = self._opening_scale()
        if scale is None:
            return False
        view.zoom_by(scale / view.current_scale())
        result = self.window.result
        roots = [n.id for n in result.visible.nodes if n.kind is NodeKind.OUTPUT] if result else []
        item = self.window.scene.nodes.get(roots[0]) if roots else None
        view.centerOn(item) if item is not None else view.centerOn(view.sceneRect().center())
        return True

    def _opening_scale(self) -> float | None:
        """The zoom to open the fitted picture at, or None to keep the fit."""
        view, nodes = self.window.view, self.window.scene.nodes
        if self.theme.presentation:
            return READABLE_SCALE if view.current_scale() < READABLE_SCALE else None
        item = next(iter(nodes.values()), None)
        if item is None:
            return None
        scale = readable_scale(item)  # as stepping zooms: the first Right does not jump
        rect, size = self.window.scene.sceneRect(), view.viewport().size()
        screens = rect.width() * rect.height() * scale**2 / max(size.width() * size.height(), 1)
        if view.current_scale() >= scale * CRAMPED or screens > SMALL_GRAPH_SCREENS:
            return None
        return scale

    def _on_controller_backward_ready(self, result: BackwardResult) -> None:
        self._set_grad_available(True)
        if self.window.stepper.panel.colour_box.isChecked():
            self.set_mode(ColourMode.GRADIENT)
        else:
            self.apply_colours()

    def _on_colour_box_toggled(self, checked: bool) -> None:
        if checked:
            self.set_mode(ColourMode.GRADIENT)
        elif self.mode is ColourMode.GRADIENT:
            self.set_mode(ColourMode.KIND)

    # --- theme -----------------------------------------------------------------
    def apply_theme(self) -> None:
        """Draw every part of the window in the current theme."""
        theme, window = self.theme, self.window
        window.qt_window.setPalette(theme.palette())
        font = QFont(QApplication.font())
        if theme.presentation:
            font.setPointSizeF(font.pointSizeF() * theme.font_scale)
        window.qt_window.setFont(font)
        window.view.setBackgroundBrush(QColor(theme.background))
        window.view.resetCachedContent()
        window.scene.set_theme(theme)
        window.stepper.legend.set_theme(theme)
        window.stepper.reapply()  # the chain-rule panel's colours
        window.lesson.set_link_colour(theme.link)
        window.inspector.set_theme(theme)
        window.histograms.set_theme(theme)
        window.minimap.set_theme(theme)
        window.refresh_inspector()
        self.apply_colours()
        self._apply_font_size(theme)

    def _place_find_bar(self, own_row: bool) -> None:
        """Large fonts leave no room for the find box beside the toolbar's buttons."""
        find = self.window.find_toolbar
        if find is None:  # the window builds its toolbars after the appearance
            return
        self.window.qt_window.removeToolBarBreak(find)
        if own_row:
            self.window.qt_window.insertToolBarBreak(find)

    def _apply_font_size(self, theme: Theme) -> None:
        """Presentation mode lays the graph out again with larger labels."""
        size = PRESENTATION_FONT if theme.presentation else GraphStyle().font_size
        if self.window.style_options.font_size != size:
            self.window.restyle(font_size=size)

    def _on_themes_theme_changed(self, theme: Theme) -> None:
        self.presentation_action.setChecked(theme.presentation)
        self._place_find_bar(theme.presentation)
        self.apply_theme()
