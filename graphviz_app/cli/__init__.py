"""The headless command line: its parser, and one module per command. No Qt is imported
here (PDF export loads it offscreen, through :mod:`graphviz_app.pdf`)."""
