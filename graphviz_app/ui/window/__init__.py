"""The main window and what only it composes: appearance, view controls, navigation, status
bar, saved state."""
